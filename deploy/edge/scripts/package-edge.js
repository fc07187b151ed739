#!/usr/bin/env node
// `npm run package:edge`: deploy/edge/dist/cityflow-agent-linux-{x64,arm64}, one self-contained
// executable each (Node + the bundled agent + its SQLite addon). Needs, once: apt-get install
// g++-aarch64-linux-gnu (arm64 addon) — and `npm run build` before (npm ci does it).
// Options: --force (ignore the up-to-date check), --target linux-x64|linux-arm64 (repeatable),
// --release (also dist/cityflow-agent-<version>-<target>/ and .tar.gz: what goes to the Pis).
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleAgent, SEA_ENTRY } from './bundle.js';
import { executablesFresh, inputsHash, STAMP } from './inputs.js';
import { DIST_DIR, log, packageVersion, TARGETS } from './lib.js';
import { nodeBinary } from './node-binary.js';
import { buildExecutable } from './sea.js';
import { releaseFolder } from './release.js';
import { sqliteAddon } from './sqlite-addon.js';

export async function packageEdge({ force = false, targets = TARGETS, release = false } = {}) {
  if (!existsSync(SEA_ENTRY)) throw new Error(`${SEA_ENTRY} missing: run npm run build first`);
  if (!force && targets.length === TARGETS.length && executablesFresh(targets)) {
    log('executables are up to date (use --force to rebuild)');
  } else await buildAll(targets);
  if (release) for (const t of targets) releaseFolder(t, packageVersion('@cityflow/edge-agent'));
}

async function buildAll(targets) {
  const started = Date.now();
  const inputs = inputsHash(); // before building: an edit made meanwhile leaves the result stale
  const work = join(DIST_DIR, 'build');
  mkdirSync(work, { recursive: true });
  const bundle = await bundleAgent(join(work, 'cityflow-agent.cjs'));
  log(`bundled ${bundle.inputs} modules into ${bundle.outfile} (${mb(bundle.outfile)} MB)`);
  for (const target of targets) {
    const t0 = Date.now();
    const out = join(DIST_DIR, `cityflow-agent-${target}`);
    await buildExecutable({
      target,
      bundle: bundle.outfile,
      nodeBin: nodeBinary(target),
      addon: sqliteAddon(target),
      out,
      workDir: work,
    });
    log(`${out}: ${mb(out)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (targets.length === TARGETS.length) writeFileSync(STAMP, `${inputs}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const mb = (f) => (statSync(f).size / 1e6).toFixed(1);

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const targets = args.flatMap((a, i) => (args[i - 1] === '--target' ? [a] : []));
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`--target ${t}: one of ${TARGETS}`);
  packageEdge({
    force: args.includes('--force'),
    release: args.includes('--release'),
    targets: targets.length ? targets : TARGETS,
  }).catch((e) => {
    process.stderr.write(`package:edge failed: ${e.message}\n`);
    process.exit(1);
  });
}
