/**
 * The single executable carries better-sqlite3's native addon as an SEA asset. `dlopen` needs a file,
 * so the bytes are written once to a cache directory, under a name derived from their hash: a newer
 * executable never loads an older addon, an upgrade and its rollback can share the directory, and a
 * file damaged on the SD card is detected (its hash is checked at every start) and rewritten.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Where the addon file goes, first usable wins: CITYFLOW_ADDON_DIR; systemd's CacheDirectory=
 * ($CACHE_DIRECTORY, writable under ProtectSystem=strict); the user's cache; a per-user temp dir.
 */
export function addonDirCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const uid = process.getuid?.() ?? 'user';
  return [
    env.CITYFLOW_ADDON_DIR,
    env.CACHE_DIRECTORY?.split(':')[0],
    env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, 'cityflow') : undefined,
    join(homedir(), '.cache', 'cityflow'),
    join(tmpdir(), `cityflow-${uid}`),
  ].filter((d): d is string => Boolean(d));
}

/**
 * Refuses a directory another user could write to: whoever can replace the file there runs code in
 * the agent. Returns why the directory is unusable, or null.
 */
function unsafeDir(dir: string): string | null {
  const st = statSync(dir);
  if (!st.isDirectory()) return 'not a directory';
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) return `owned by uid ${st.uid}`;
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return 'writable by others';
  return null;
}

/** Writes `bytes` (if not already there intact) into the first usable directory; returns the file. */
export function materializeAddon(name: string, bytes: Uint8Array, dirs = addonDirCandidates()): string {
  const hash = sha256(bytes);
  const problems: string[] = [];
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const unsafe = unsafeDir(dir);
      if (unsafe) {
        problems.push(`${dir}: ${unsafe}`);
        continue;
      }
      const file = join(dir, `${name.replace(/\.node$/, '')}-${hash.slice(0, 16)}.node`);
      if (existsSync(file) && sha256(readFileSync(file)) === hash) return file;
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes, { mode: 0o500 });
      chmodSync(tmp, 0o500);
      renameSync(tmp, file); // atomic: a concurrent start sees the old file or the whole new one
      return file;
    } catch (e) {
      problems.push(`${dir}: ${(e as Error).message}`);
    }
  }
  throw new Error(`cannot write the SQLite addon to any cache directory (${problems.join('; ')})`);
}

/** Loads a native addon file and returns its exports (what `require('x.node')` would return). */
export function dlopenAddon(file: string): object {
  const module = { exports: {} as object };
  process.dlopen(module, file);
  return module.exports;
}
