// What an executable is made of, as one hash: the tests rebuild when it changed (stale executables
// would test old code), and `npm run package:edge` skips work when nothing did.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DIST_DIR, EDGE_DIR, NODE_VERSION, REPO_DIR } from './lib.js';

export const STAMP = join(DIST_DIR, 'inputs.sha256');

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name));
}

export function inputsHash() {
  const h = createHash('sha256').update(`node ${NODE_VERSION}\n`);
  const all = [
    ...['edge-agent', 'protocol', 'forecast'].flatMap((p) => files(join(REPO_DIR, p, 'dist'))),
    ...files(join(EDGE_DIR, 'scripts')),
    join(REPO_DIR, 'package-lock.json'),
  ].sort();
  for (const f of all) h.update(`${relative(REPO_DIR, f)}\n`).update(readFileSync(f));
  return h.digest('hex');
}

/** True when both executables exist and were built from the current inputs. */
export function executablesFresh(targets) {
  if (!existsSync(STAMP)) return false;
  if (!targets.every((t) => existsSync(join(DIST_DIR, `cityflow-agent-${t}`)))) return false;
  return readFileSync(STAMP, 'utf8').trim() === inputsHash();
}
