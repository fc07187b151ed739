/**
 * The console-render bench's stand-in API: a generated grid network, the built console's static
 * files, empty lists, KPIs, and a `/ws/live` that changes every road's state once a second. It
 * measures the browser side only (no hub).
 */
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { WebSocketServer } from 'ws';

/** A square grid of two-way streets: n×n nodes give 4·n·(n−1) directed roads. */
export function network(roads) {
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

export async function serve(net, { publicDir, updates }) {
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
    const file = normalize(join(publicDir, url.pathname === '/' ? 'index.html' : url.pathname));
    if (!file.startsWith(publicDir)) return json({}, 404);
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
    if (!updates) return;
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
