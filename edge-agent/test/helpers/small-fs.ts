import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs of its own (root only: `mount -t tmpfs`), so a test can fill a real filesystem on
 * purpose without touching the machine's disks. `fill()` writes a filler file until ENOSPC leaves
 * at most `leaveBytes`; `release()` deletes it; `unmount()` is the cleanup.
 */
export function smallFs(sizeMb = 8) {
  const dir = mkdtempSync(join(tmpdir(), 'cf-smallfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `this test fills a tmpfs on purpose and needs root to mount one (mount -t tmpfs): ${(e as Error).message}`,
    );
  }
  const filler = join(dir, 'filler.bin');
  return {
    dir,
    /** Fills the filesystem; returns the bytes written. */
    fill(): number {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      let written = 0;
      try {
        for (;;) {
          try {
            written += writeSync(fd, chunk);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
            // then the last few KiB, so SQLite cannot find even one free page
            const small = Buffer.alloc(512, 0x5a);
            for (;;) {
              try {
                written += writeSync(fd, small);
              } catch {
                return written;
              }
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    release(): void {
      try {
        unlinkSync(filler);
      } catch {
        /* not filled */
      }
    },
    unmount(): void {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
