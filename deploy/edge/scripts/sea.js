// One target's executable: SEA blob (bundle + the SQLite addon as an asset) from this machine's
// node --experimental-sea-config, injected with postject into a copy of that target's Node binary.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { ADDON_ASSET, run } from './lib.js';
import { SEA_FUSE } from './node-binary.js';

/**
 * `useCodeCache` compiles the bundle with this machine's V8 into the blob: faster start, but the cache
 * is only valid for the same architecture, so only the host target (x64) gets it; arm64's V8 would
 * reject it and compile anyway.
 */
export async function buildExecutable({ target, bundle, nodeBin, addon, out, workDir }) {
  const blob = join(workDir, `${target}.blob`);
  const config = join(workDir, `${target}.sea-config.json`);
  writeFileSync(
    config,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: target === `linux-${process.arch}`,
      useSnapshot: false,
      assets: { [ADDON_ASSET]: addon },
    }),
  );
  run(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(out, { force: true });
  copyFileSync(nodeBin, out);
  chmodSync(out, 0o755);
  inject(out, blob);
  return out;
}

/**
 * postject's CLI in a child process, so that LIEF's harmless complaint about Node's unnamed note
 * sections (one line per note, a screenful per target) can be dropped from the output.
 */
function inject(exe, blob) {
  const cli = join(createRequire(import.meta.url).resolve('postject'), '..', 'cli.js');
  const r = spawnSync(process.execPath, [cli, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // LIEF's complaint, and postject's own progress lines (coloured)
  const noise = /^(warning: Can't find string offset for section name|Start injection|💉 Injection done)/;
  const said = `${r.stdout}${r.stderr}`
    .split('\n')
    .map((l) => stripVTControlCharacters(l))
    .filter((l) => l.trim() && !noise.test(l));
  if (r.status !== 0) throw new Error(`postject failed (${r.status}):\n${said.join('\n')}`);
  for (const l of said) process.stderr.write(`${l}\n`);
}
