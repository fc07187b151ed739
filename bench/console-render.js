#!/usr/bin/env node
/**
 * Console rendering (issue 12): the built console (console/public) in headless Chromium
 * (/usr/bin/chromium via playwright-core, never a downloaded browser) on a generated network of
 * BENCH_ROADS (default 5,040 ≈ 5,000) directed roads whose every state changes once a second over the
 * WebSocket. Goals: all roads drawn ≤ 2 s after navigation (the `cityflow:map-complete` performance
 * mark, measured from navigation start) in every one of BENCH_RUNS navigations, and p95 frame time
 * ≤ 33 ms while updating.
 * The API is a stand-in served here (login-free session, /api/roads, empty lists, a /ws/live that sends
 * `traffic` frames): this measures the browser side only. WebGL runs on SwiftShader (CPU), stated in
 * the result as `renderer`. Peer: the same run with BENCH_PEER_ROADS (default 504) roads.
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { cpuByProcessType, topFunctions } from './lib/chromium-profile.js';
import { network, serve } from './lib/console-standin.js';

/** BENCH_PUBLIC: another build of the console to compare (e.g. an older commit's `vite build`) */
const PUBLIC = process.env.BENCH_PUBLIC ?? fileURLToPath(new URL('../console/public', import.meta.url));
const CHROMIUM = process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium';
const ROADS = Number(process.env.BENCH_ROADS ?? 5040);
const PEER_ROADS = Number(process.env.BENCH_PEER_ROADS ?? 504);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
/**
 * BENCH_RUNS: navigations of the full network (default 5), each in a new browser context. One load
 * decides nothing on a 2-core machine (the same build gave 1.4–2.3 s in one morning under other
 * load), so the goal must hold in every run; frames are recorded in the last one.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
for (const [name, v] of Object.entries({
  BENCH_RUNS: RUNS,
  BENCH_ROADS: ROADS,
  BENCH_PEER_ROADS: PEER_ROADS,
}))
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a whole number >= 1, not ${v}`);
/** BENCH_UPDATES=0: no live updates (the idle frame rate, to separate drawing from updating) */
const UPDATES = process.env.BENCH_UPDATES !== '0';
/** BENCH_PROFILE=1: the page's JavaScript profile while updating (top functions by self time) */
const PROFILE = process.env.BENCH_PROFILE === '1';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null;

async function run(browser, roads, rootPid, loadOnly = false) {
  const net = network(roads);
  const srv = await serve(net, { publicDir: PUBLIC, updates: UPDATES });
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  // A signed-in session (the stand-in API accepts any token) and no basemap (no tile server here).
  await context.addInitScript(() => {
    const b64 = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '');
    sessionStorage.setItem(
      'cityflow.token',
      `${b64({ alg: 'none' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3600 })}.x`,
    );
    sessionStorage.setItem(
      'cityflow.user',
      JSON.stringify({
        id: 1,
        email: 'bench@cityflow.local',
        role: 'viewer',
        created_at: new Date().toISOString(),
      }),
    );
    localStorage.setItem('cityflow.tileUrl', '');
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  // With BENCH_PROFILE=1, one profile from navigation to the mark and one while updating.
  const cdp = PROFILE ? await context.newCDPSession(page) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
  }
  await page.goto(srv.url);
  const complete = page.waitForFunction(
    () => performance.getEntriesByName('cityflow:map-complete').length > 0,
    null,
    {
      timeout: 120_000,
    },
  );
  await complete.catch((e) => {
    throw new Error(`${e.message}; page errors: ${errors.join(' | ')}`);
  });
  const mapCompleteMs = await page.evaluate(
    () => performance.getEntriesByName('cityflow:map-complete')[0].startTime,
  );
  // The way to the mark (ms from navigation start): page parsed, roads fetched, style ready, roads
  // handed to MapLibre, tiled by its worker, complete.
  const steps = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const out = { dom_content_loaded: Math.round(nav.domContentLoadedEventEnd) };
    const roads = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/api/roads'));
    if (roads) {
      out.roads_request = Math.round(roads.fetchStart);
      out.roads_response_end = Math.round(roads.responseEnd);
    }
    for (const m of performance.getEntriesByType('mark'))
      if (m.name.startsWith('cityflow:')) out[m.name.slice(9).replace(/-/g, '_')] = Math.round(m.startTime);
    return out;
  });
  const drawn = await page.evaluate(() => window.__cityflow.probe().renderedRoads().length);
  if (loadOnly) {
    await context.close();
    await srv.stop();
    return { drawn, map_complete_ms: Math.round(mapCompleteMs), page_errors: errors.length };
  }
  const renderer = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : (gl?.getParameter(gl.RENDERER) ?? 'none');
  });
  // Let the live updates reach every road, then record frame intervals.
  const loadProfile = cdp ? topFunctions((await cdp.send('Profiler.stop')).profile) : undefined;
  await page.waitForTimeout(2000);
  if (cdp) await cdp.send('Profiler.start');
  const cpu0 = cpuByProcessType(rootPid);
  const t0 = Date.now();
  const frames = await page.evaluate(
    (seconds) =>
      new Promise((resolve) => {
        const out = [];
        let last = performance.now();
        const end = last + seconds * 1000;
        const step = (t) => {
          out.push(t - last);
          last = t;
          if (t < end) requestAnimationFrame(step);
          else resolve(out);
        };
        requestAnimationFrame((t) => {
          last = t;
          requestAnimationFrame(step);
        });
      }),
    SECONDS,
  );
  const wallS = (Date.now() - t0) / 1000;
  const cpu1 = cpuByProcessType(rootPid);
  const cpuShare = Object.fromEntries(
    Object.keys(cpu1).map((k) => [k, +((cpu1[k] - (cpu0[k] ?? 0)) / wallS).toFixed(2)]),
  );
  const profile = cdp ? topFunctions((await cdp.send('Profiler.stop')).profile) : undefined;
  const updated = await page.evaluate(() => window.__cityflow.store.state.live.size);
  await context.close();
  await srv.stop();
  const sorted = [...frames].sort((a, b) => a - b);
  return {
    roads: net.ids.length,
    drawn,
    roads_with_live_state: updated,
    map_complete_ms: Math.round(mapCompleteMs),
    steps_ms: steps,
    frames: frames.length,
    frame_p50_ms: +pct(sorted, 0.5).toFixed(1),
    frame_p95_ms: +pct(sorted, 0.95).toFixed(1),
    /** the 1 Hz repaint of every road's colour: one long frame a second on CPU rendering */
    frame_p99_ms: +pct(sorted, 0.99).toFixed(1),
    frame_max_ms: +sorted.at(-1).toFixed(1),
    updates_per_s: net.ids.length,
    renderer,
    /** CPU cores busy per Chromium process type while updating (1 = one core all the time) */
    cpu_cores: cpuShare,
    ...(profile ? { profile_load: loadProfile, profile_updating: profile } : {}),
    page_errors: errors.length,
  };
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
const rootPid = process.pid;
try {
  const load1 = +loadavg()[0].toFixed(2);
  const loads = [];
  for (let i = 1; i < RUNS; i++) {
    log(`console-render: ${ROADS} roads, load ${i} of ${RUNS}`);
    const r = await run(browser, ROADS, rootPid, true);
    log(JSON.stringify(r));
    loads.push(r);
  }
  log(`console-render: ${ROADS} roads, load ${RUNS} of ${RUNS} and frames`);
  const metrics = await run(browser, ROADS, rootPid);
  log(JSON.stringify(metrics));
  loads.push(metrics);
  const completes = loads.map((r) => r.map_complete_ms);
  const sortedCompletes = [...completes].sort((a, b) => a - b);
  log(`console-render: peer ${PEER_ROADS} roads`);
  const peer = await run(browser, PEER_ROADS, rootPid);
  log(JSON.stringify(peer));
  process.stdout.write(
    `${JSON.stringify({
      name: 'console-render',
      goal: 'all roads drawn <= 2000 ms after navigation in every run; p95 frame <= 33 ms with every road updated each second',
      metrics: {
        ...metrics,
        runs: RUNS,
        map_complete_runs_ms: completes,
        map_complete_median_ms: pct(sortedCompletes, 0.5),
        map_complete_max_ms: sortedCompletes.at(-1),
        /** the machine's 1-minute load average before the first run (2 cores here) */
        load_average_before: load1,
        pass:
          sortedCompletes.at(-1) <= 2000 &&
          metrics.frame_p95_ms <= 33 &&
          loads.every((r) => r.drawn === metrics.roads && r.page_errors === 0),
      },
      peer,
      ratio: {
        frame_p95: +(metrics.frame_p95_ms / peer.frame_p95_ms).toFixed(2),
        map_complete: +(pct(sortedCompletes, 0.5) / peer.map_complete_ms).toFixed(2),
      },
    })}\n`,
  );
} finally {
  await browser.close();
}
