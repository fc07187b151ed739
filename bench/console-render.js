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
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { WebSocketServer } from 'ws';

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
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
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

/**
 * CPU seconds used so far by each kind of Chromium process below `rootPid` (this bench; Linux /proc):
 * where the time goes between the page (renderer: JavaScript, layout), the GPU process (here
 * SwiftShader, which rasterises the WebGL canvas on the CPU) and the browser process (compositing).
 */
function cpuByProcessType(rootPid) {
  const procs = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      procs.push({ pid: Number(d), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), cmd });
    } catch {
      // the process ended meanwhile
    }
  }
  const under = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs)
      if (!under.has(p.pid) && under.has(p.ppid)) {
        under.add(p.pid);
        grew = true;
      }
  }
  const out = {};
  for (const p of procs) {
    if (!under.has(p.pid) || p.pid === rootPid) continue;
    const type = /--type=([\w-]+)/.exec(p.cmd)?.[1] ?? (/chrom/.test(p.cmd) ? 'browser' : null);
    if (!type) continue;
    out[type] = (out[type] ?? 0) + p.ticks / 100;
  }
  return out;
}

/** Self time per function of a V8 CPU profile, the heaviest first. */
function topFunctions(profile, n = 12) {
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++)
    dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const byFn = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const us = dt.get(node.id) ?? 0;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const key =
      `${functionName || '(anonymous)'} ${url ? `${url.split('/').pop()}:${lineNumber + 1}` : ''}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  return [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), share: +(us / total).toFixed(3) }));
}
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null;

/** A square grid of two-way streets: n×n nodes give 4·n·(n−1) directed roads. */
function network(roads) {
  const n = Math.max(2, Math.round((1 + Math.sqrt(1 + roads)) / 2));
  const features = [];
  const pos = (r, c) => [2.25 + c * 0.0025, 48.8 + r * 0.0017];
  const ids = [];
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++)
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: pos(r, c) },
        properties: {
          kind: 'intersection',
          node_id: `N${r}-${c}`,
          agent_id: `agent-${Math.floor(r / 6)}-${Math.floor(c / 6)}`,
        },
      });
  const road = (r1, c1, r2, c2) => {
    const id = `R${r1}-${c1}_${r2}-${c2}`;
    ids.push(id);
    features.push({
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: [pos(r1, c1), pos(r2, c2)] },
      properties: {
        kind: 'road',
        road_id: id,
        from_node: `N${r1}-${c1}`,
        to_node: `N${r2}-${c2}`,
        speed_limit_kmh: 50,
        name: id,
        live: null,
      },
    });
  };
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      if (c + 1 < n) {
        road(r, c, r, c + 1);
        road(r, c + 1, r, c);
      }
      if (r + 1 < n) {
        road(r, c, r + 1, c);
        road(r + 1, c, r, c);
      }
    }
  return { geo: { type: 'FeatureCollection', features }, ids };
}

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
};
const page0 = { data: [], next_cursor: null, has_more: false };

async function serve(net) {
  const body = JSON.stringify(net.geo);
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const json = (v, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof v === 'string' ? v : JSON.stringify(v));
    };
    if (url.pathname === '/api/roads') return json(body);
    if (url.pathname === '/api/kpis')
      return json({
        as_of: new Date().toISOString(),
        clock: 'wall',
        window_min: 5,
        ingest_latency_s: 1,
        messages_per_s: net.ids.length,
        error_rate: 0,
        mean_forecast_congestion: 0.3,
        co2_gain_kg_per_h: 0,
        agents_online: 0,
        agents_total: 0,
      });
    if (url.pathname.startsWith('/api/')) return json(page0);
    const file = normalize(join(PUBLIC, url.pathname === '/' ? 'index.html' : url.pathname));
    if (!file.startsWith(PUBLIC)) return json({}, 404);
    try {
      statSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      json({ error: { code: 'CF_NOT_FOUND', message: url.pathname } }, 404);
    }
  });
  const wss = new WebSocketServer({ server, path: '/ws/live' });
  let tick = 0;
  const start = Date.now();
  // Every road once a second, in ten slices 100 ms apart (as agents' snapshots arrive spread out).
  const timer = setInterval(() => {
    const slice = tick % 10;
    const ts = new Date(start + tick * 100).toISOString();
    tick++;
    if (!UPDATES) return;
    for (const ws of wss.clients)
      for (let i = slice; i < net.ids.length; i += 10) {
        const score = (Math.sin(i * 0.37 + tick * 0.05) + 1) / 2;
        ws.send(
          JSON.stringify({
            type: 'traffic',
            data: {
              ts,
              road_id: net.ids[i],
              speed_kmh: 50 * (1 - score),
              flow_rate: 600,
              occupancy: score * 0.6,
              congestion_score: score,
              sensors: 1,
            },
          }),
        );
      }
  }, 100);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    stop: () => {
      clearInterval(timer);
      for (const ws of wss.clients) ws.terminate();
      return new Promise((r) => server.close(r));
    },
  };
}

async function run(browser, roads, rootPid, loadOnly = false) {
  const net = network(roads);
  const srv = await serve(net);
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
