#!/usr/bin/env node
/**
 * Cost of forecasting (issue 5): CPU per road per forecast cycle of the edge model (target ≤ 1 ms),
 * its memory per road, and one hub cycle of the network model over 10,000 roads (target ≤ 2 s).
 * A cycle = each road observes its newest 5-min bucket (learning from forecasts that just came due)
 * and forecasts 15/30/60 min. Peer: the same cycles with `persistence` in the same run.
 *   node bench/forecast-cost.js     (BENCH_ROADS=10000, BENCH_WARM_BUCKETS=72)
 * Prints one JSON object on stdout. Needs `npx tsc -b` (uses the built package).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createEdgeForecaster,
  createNetworkForecaster,
  createPersistenceForecaster,
} from '@cityflow/forecast';

// Memory per road needs a real GC between measurements: re-run self with --expose-gc.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const ROADS = Number(process.env.BENCH_ROADS ?? 10_000);
const WARM = Number(process.env.BENCH_WARM_BUCKETS ?? 72); // 6 h of 5-min buckets
const EDGE_ROADS = 200;
const STEP = 5 * 60_000;
const T0 = Date.UTC(2026, 2, 2);
const H = [15, 30, 60];
const deadline = setTimeout(() => {
  console.error('forecast-cost: time bound reached');
  process.exit(2);
}, 5 * 60_000);

const speed = (r, k) => 40 + 15 * Math.sin((2 * Math.PI * k) / 288 + r) + 5 * Math.sin(k * 0.37 + r * 1.3);

/** A grid-like city: each road has 3 upstream and 3 downstream neighbours. */
function neighbours(n) {
  const m = new Map();
  for (let r = 0; r < n; r++)
    m.set(
      `r${r}`,
      [-3, -2, -1, 1, 2, 3].map((d) => ({ id: `r${(r + d * 7 + n) % n}`, weight: d < 0 ? 1 : 0.8 })),
    );
  return m;
}

function warm(model, n, buckets) {
  for (let k = 0; k < buckets; k++)
    for (let r = 0; r < n; r++) model.observe(`r${r}`, T0 + k * STEP, speed(r, k));
}

/** Runs `cycles` cycles after bucket `from`; returns CPU ms per cycle. */
function cycles(model, n, from, count) {
  let sink = 0;
  const c0 = process.cpuUsage();
  for (let c = 0; c < count; c++) {
    const k = from + c;
    const ts = T0 + k * STEP;
    for (let r = 0; r < n; r++) {
      model.observe(`r${r}`, ts, speed(r, k));
      sink += model.forecast(`r${r}`, ts, H).length;
    }
  }
  const d = process.cpuUsage(c0);
  if (sink !== n * count * H.length) throw new Error('a forecast is missing');
  return (d.user + d.system) / 1000 / count;
}

function heapPerRoad(make, n, buckets) {
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const model = make();
  warm(model, n, buckets);
  globalThis.gc();
  const bytes = (process.memoryUsage().heapUsed - before) / n;
  return { model, bytes };
}

// Edge: one agent's roads, warmed with a day, then 48 cycles.
const edge = createEdgeForecaster();
const pers = createPersistenceForecaster();
warm(edge, EDGE_ROADS, 288);
warm(pers, EDGE_ROADS, 288);
const edgeMs = cycles(edge, EDGE_ROADS, 288, 48) / EDGE_ROADS;
const persMs = cycles(pers, EDGE_ROADS, 288, 48) / EDGE_ROADS;
const edgeMem = heapPerRoad(() => createEdgeForecaster(), 2000, 288).bytes;

// Hub: the network model over ROADS roads.
const nb = neighbours(ROADS);
const { model: net, bytes: netMem } = heapPerRoad(() => createNetworkForecaster(nb), ROADS, WARM);
const hubPers = createPersistenceForecaster();
warm(hubPers, ROADS, WARM);
const netCycleMs = cycles(net, ROADS, WARM, 3);
const persCycleMs = cycles(hubPers, ROADS, WARM, 3);

clearTimeout(deadline);
const r3 = (x) => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify({
    name: 'forecast-cost',
    metrics: {
      edge_cpu_ms_per_road_cycle: r3(edgeMs),
      edge_bytes_per_road: Math.round(edgeMem),
      hub_network_cycle_s: r3(netCycleMs / 1000),
      hub_roads: ROADS,
      hub_bytes_per_road: Math.round(netMem),
      targets: { edge_cpu_ms_per_road_cycle: 1, hub_network_cycle_s: 2 },
    },
    peer: {
      model: 'persistence',
      edge_cpu_ms_per_road_cycle: r3(persMs),
      hub_cycle_s: r3(persCycleMs / 1000),
    },
    ratio: r3(netCycleMs / persCycleMs),
  }),
);
