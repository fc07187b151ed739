/**
 * A small tmpfs of its own (root only: `mount -t tmpfs`), so a fault test can fill a real filesystem
 * on purpose without touching the machine's disks. `fill()` writes a filler file until ENOSPC;
 * `release()` deletes it; `unmount()` is the cleanup. Shared by the agent's disk-full test and the
 * chaos suite's disk-full fault.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function smallFs(sizeMb = 8) {
  const dir = mkdtempSync(join(tmpdir(), 'cf-smallfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`filling a tmpfs on purpose needs root to mount one (mount -t tmpfs): ${e.message}`);
  }
  const filler = join(dir, 'filler.bin');
  const writeAll = (fd, size) => {
    const chunk = Buffer.alloc(size, 0x5a);
    let n = 0;
    for (;;) {
      try {
        n += writeSync(fd, chunk);
      } catch (e) {
        if (e.code !== 'ENOSPC') throw e;
        return n;
      }
    }
  };
  return {
    dir,
    /** Fills the filesystem (64 KiB writes, then 512-byte ones for the last pages); returns the bytes written. */
    fill() {
      const fd = openSync(filler, 'a');
      try {
        return writeAll(fd, 64 * 1024) + writeAll(fd, 512);
      } finally {
        closeSync(fd);
      }
    },
    release() {
      try {
        unlinkSync(filler);
      } catch {
        /* not filled */
      }
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
