#!/usr/bin/env node
/**
 * Runs every benchmark script in bench/ (each prints one JSON object on stdout), then writes
 * bench/results/latest.json and a markdown table bench/results/latest.md.
 *   npm run bench                 all benchmarks
 *   npm run bench -- agent hub    only those whose file name contains one of the words
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();

const results = [];
for (const file of scripts) {
  process.stderr.write(`== ${file}\n`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--expose-gc', join(here, file)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  const line = (run.stdout ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
  let result;
  try {
    result = JSON.parse(line);
  } catch {
    result = {
      name: file,
      error: `exit ${run.status}${run.signal ? ` (${run.signal})` : ''}: no JSON result`,
    };
  }
  result.file = file;
  result.seconds = Math.round((Date.now() - started) / 100) / 10;
  results.push(result);
  process.stderr.write(`${JSON.stringify(result)}\n`);
}

const flat = (o, prefix = '') =>
  Object.entries(o ?? {}).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? flat(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
  );
const md = ['| benchmark | metric | value |', '|---|---|---|'];
for (const r of results)
  for (const [k, v] of flat({ metrics: r.metrics, peer: r.peer, ratio: r.ratio, error: r.error }))
    if (v !== undefined)
      md.push(`| ${r.name ?? r.file} | ${k} | ${typeof v === 'number' ? +v.toPrecision(4) : v} |`);

const out = join(here, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'latest.json'),
  `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`,
);
writeFileSync(join(out, 'latest.md'), `${md.join('\n')}\n`);
console.log(md.join('\n'));
process.exitCode = results.some((r) => r.error) ? 1 : 0;
