#!/usr/bin/env node
/**
 * The agent's per-reading accumulation (MinuteAccStore.add, inside every group commit): the
 * protocol's `addSummarySums`, compiled from SUMMARY_MERGE_RULES, against the hand-written loop it
 * replaced (the peer, same process) and against a plain loop over the rule table (why it is
 * compiled). 5,000 readings of 100 sensors over two minutes per commit. Prints one JSON line. Needs
 * `npx tsc -b`.
 */
import { readingSums as sumsOf } from '../edge-agent/dist/storage/minute-acc-store.js';
import { SUMMARY_MERGE_RULES, addSummarySums } from '../protocol/dist/index.js';

const N = 5000;
const readings = Array.from({ length: N }, (_, i) => ({
  tsMs: 1.7e12 + (i % 120) * 1000,
  sensorId: `S-${i % 100}`,
  roadId: 'R-1',
  speed: i % 7 ? 40 + (i % 13) : null,
  flow: 600 + (i % 5),
  occ: 0.1,
  flagged: i % 97 === 0,
}));
const pick = (f, a, b) => (a === null ? b : b === null ? a : f(a, b));
function interpreted(into, part) {
  for (const r of SUMMARY_MERGE_RULES) {
    if (r.rule === 'add') into[r.field] += part[r.field];
    else if (r.rule === 'mean') into[r.sum] += part[r.sum];
    else if (r.rule === 'any') into.flagged ||= part.flagged;
    else into[r.field] = pick(r.rule === 'min' ? Math.min : Math.max, into[r.field], part[r.field]);
  }
}
// one loop per variant, as in the agent: a shared loop would make the `add` call site polymorphic
// and slow every variant down alike
const grouped = (add) =>
  new Function(
    'readings',
    'sumsOf',
    'add',
    `const groups = new Map();
     for (const x of readings) {
       const key = x.sensorId + '\\u0000' + x.roadId + '\\u0000' + Math.floor(x.tsMs / 60000);
       const g = groups.get(key);
       if (g) add(g, sumsOf(x));
       else groups.set(key, sumsOf(x));
     }
     return groups;`,
  ).bind(null, readings, sumsOf, add);
function handWritten() {
  const groups = new Map();
  for (const x of readings) {
    const key = x.sensorId + '\u0000' + x.roadId + '\u0000' + Math.floor(x.tsMs / 60000);
    let g = groups.get(key);
    if (!g) {
      g = { n: 0, nulls: 0, sum: 0, min: null, max: null, flow: 0, occ: 0, flagged: 0 };
      groups.set(key, g);
    }
    g.n++;
    if (x.speed === null) g.nulls++;
    else {
      g.sum += x.speed;
      g.min = g.min === null ? x.speed : Math.min(g.min, x.speed);
      g.max = g.max === null ? x.speed : Math.max(g.max, x.speed);
    }
    g.flow += x.flow;
    g.occ += x.occ;
    if (x.flagged) g.flagged = 1;
  }
  return groups;
}
const runs = { compiled: grouped(addSummarySums), interpreted: grouped(interpreted), handWritten };
const best = {};
// interleaved rounds, best of each: the machine is shared
for (let round = 0; round < 5; round++)
  for (const [name, f] of Object.entries(runs)) {
    for (let i = 0; i < 30; i++) f();
    const t = performance.now();
    for (let i = 0; i < 200; i++) f();
    const ms = (performance.now() - t) / 200;
    best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, ms);
  }
const r3 = (x) => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify({
    name: 'summary-sums',
    metrics: { compiled_ms_per_5000: r3(best.compiled), interpreted_ms_per_5000: r3(best.interpreted) },
    peer: { hand_written_ms_per_5000: r3(best.handWritten) },
    ratio: {
      compiled_vs_hand_written: r3(best.compiled / best.handWritten),
      interpreted_vs_hand_written: r3(best.interpreted / best.handWritten),
    },
  }),
);
