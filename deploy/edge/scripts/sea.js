// One target's executable: SEA blob (bundle + the SQLite addon as an asset) from this machine's
// node --experimental-sea-config, injected with postject into a copy of that target's Node binary.
import { copyFileSync, chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'postject';
import { readFileSync } from 'node:fs';
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
  await inject(out, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  return out;
}
