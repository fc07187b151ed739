// Running the built executables on this x64 machine (tests, bench/edge-start.js): rebuilt through
// the packaging script when missing or stale; arm64 through qemu-user, called explicitly (no binfmt).
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { executablesFresh } from './inputs.js';
import { DIST_DIR, TARGETS } from './lib.js';
import { packageEdge } from './package-edge.js';

export const QEMU = '/usr/bin/qemu-aarch64-static';
/** The aarch64 loader, libc and libstdc++ qemu needs (-L): installed with g++-aarch64-linux-gnu. */
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

export const executable = (target) => join(DIST_DIR, `cityflow-agent-${target}`);

/**
 * Test files run in parallel and each may find the executables stale: one builds (a lock directory),
 * the others wait for it and then see them fresh.
 */
export async function ensureExecutables() {
  if (executablesFresh(TARGETS)) return;
  const lock = join(DIST_DIR, '.building');
  mkdirSync(DIST_DIR, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a build killed halfway leaves its lock: older than any real build, it is taken over
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 15 * 60_000)
        rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (!executablesFresh(TARGETS)) await packageEdge();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** [command, argv] that runs `target`'s executable with `args` here. */
export function command(target, args) {
  if (target === 'linux-x64') return [executable(target), args];
  for (const need of [QEMU, join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1')])
    if (!existsSync(need))
      throw new Error(`${need} missing: apt-get install qemu-user-static g++-aarch64-linux-gnu`);
  return [QEMU, ['-L', ARM64_SYSROOT, executable(target), ...args]];
}
