// Shared helpers of the edge packaging scripts: paths, the cache directory, running tools.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EDGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = join(EDGE_DIR, '..', '..');
export const DIST_DIR = join(EDGE_DIR, 'dist');
/** Release asset key of the SQLite addon inside the executable (read by edge-agent/src/sea/). */
export const ADDON_ASSET = 'better_sqlite3.node';
/** Node version inside the executables: always the machine's, so the addon ABI matches. */
export const NODE_VERSION = process.version.slice(1);
export const TARGETS = ['linux-x64', 'linux-arm64'];

/**
 * Downloads (npm pack) and cross-builds are kept between runs, keyed by version, so a repeated
 * `npm run package:edge` only bundles and injects. CITYFLOW_EDGE_CACHE overrides the location.
 */
export function cacheDir(...parts) {
  const root = process.env.CITYFLOW_EDGE_CACHE ?? join(homedir(), '.cache', 'cityflow-edge');
  const dir = join(root, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function packageVersion(name) {
  return JSON.parse(readFileSync(join(REPO_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** Runs a tool, inheriting stderr; throws with the tool's name and exit status on failure. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return r;
}

export function log(msg) {
  process.stderr.write(`[package:edge] ${msg}\n`);
}
