#!/usr/bin/env node
/**
 * `npm run chaos`: every module in chaos/faults/*.mjs (default export `{ name, run, expectsLoss? }`,
 * `run()` resolving with `{ sent, acked, stored, lost, duplicated, recover_s, note? }`), in sequence,
 * each against its own real hub/agent processes and sockets. Prints one markdown table, writes it as
 * JSON (CHAOS_JSON, default chaos-results.json), and exits 1 if any row lost or duplicated a reading
 * (except a fault marked `expectsLoss`, which reports its loss) or failed to run.
 * CHAOS_ONLY=substring runs the matching faults only. Needs the build (`npx tsc -b`).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('./faults/', import.meta.url));
const only = process.env.CHAOS_ONLY;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs'))
  .sort();
const rows = [];
const t0 = performance.now();
for (const f of files) {
  const mod = (await import(pathToFileURL(`${dir}${f}`).href)).default;
  if (!mod?.name || typeof mod.run !== 'function')
    throw new Error(`${f}: default export must be { name, run }`);
  if (only && !mod.name.includes(only) && !f.includes(only)) continue;
  const started = performance.now();
  process.stderr.write(`chaos: ${mod.name} ...\n`);
  let row;
  try {
    row = { fault: mod.name, ...(await mod.run()) };
  } catch (e) {
    row = { fault: mod.name, error: e?.stack ?? String(e) };
  }
  row.expectsLoss = !!mod.expectsLoss;
  row.wall_s = Math.round((performance.now() - started) / 100) / 10;
  row.pass = !row.error && (row.expectsLoss || (row.lost === 0 && row.duplicated === 0));
  process.stderr.write(`chaos: ${mod.name} ${row.pass ? 'ok' : 'FAILED'} in ${row.wall_s} s\n`);
  rows.push(row);
}
const cell = (v) => (v === undefined || v === null ? '-' : String(v));
const lines = [
  '| fault | readings sent | acked | stored in the hub | lost | duplicated | time to recover (s) | note |',
  '|---|---:|---:|---:|---:|---:|---:|---|',
  ...rows.map((r) =>
    r.error
      ? `| ${r.fault} | - | - | - | - | - | - | ERROR: ${r.error.split('\n')[0]} |`
      : `| ${r.fault} | ${cell(r.sent)} | ${cell(r.acked)} | ${cell(r.stored)} | ${cell(r.lost)} | ${cell(r.duplicated)} | ${cell(r.recover_s)} | ${[r.expectsLoss ? 'loss expected and reported' : null, r.note].filter(Boolean).join('; ')} |`,
  ),
];
console.log(lines.join('\n'));
const total = Math.round((performance.now() - t0) / 1000);
console.log(`\n${rows.length} faults in ${total} s`);
writeFileSync(
  process.env.CHAOS_JSON ?? 'chaos-results.json',
  `${JSON.stringify({ total_s: total, rows }, null, 2)}\n`,
);
process.exitCode = rows.every((r) => r.pass) ? 0 : 1;
process.exit();
