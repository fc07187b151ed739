#!/usr/bin/env node
/**
 * Open-loop paced HTTP GET load, in its own process (bench/hub-api.js starts it so the load generator
 * does not share an event loop with the bench's own bookkeeping).
 *
 * Why not autocannon's `overallRate`: autocannon 9 paces per connection per second (each connection
 * sends back-to-back until its quota for the second is spent, then waits for a 1 s interval), so
 * "2,000 req/s" arrives as one burst of 2,000 requests at the start of each second; and its
 * coordinated-omission correction uses an expected interval of ceil(1 / rate) = 1 ms instead of
 * 1000 / rate ms, adding a synthetic sample for every millisecond of every slow response. Both
 * inflate p99 for reasons that are not the server's.
 *
 * Here request i is due at start + i / rate (uniform arrivals, checked every timer tick), goes out on
 * an idle keep-alive connection (HTTP/1.1, one request in flight per connection), and its latency is
 * measured from when it was DUE, not when it was sent: if every connection is busy the wait counts
 * (coordinated omission handled honestly).
 *
 * Usage: node bench/lib/paced-load.js '<json {url, rate, duration_s, connections, headers}>'
 * Prints one JSON line: {sent, completed, non2xx, errors, p50_ms, p90_ms, p99_ms, max_ms, req_per_s}.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

const opts = JSON.parse(process.argv[2]);
const url = new URL(opts.url);
const rate = Number(opts.rate);
const durationMs = Number(opts.duration_s) * 1000;
const nConn = Number(opts.connections ?? 50);
const headers = Object.entries(opts.headers ?? {})
  .map(([k, v]) => `${k}: ${v}\r\n`)
  .join('');
const request = Buffer.from(
  `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n${headers}\r\n`,
);

const total = Math.round((rate * durationMs) / 1000);
const latencies = new Float64Array(total);
let completed = 0;
let non2xx = 0;
let errors = 0;
let sent = 0;
/** due times (ms, performance.now) of requests that found no idle connection */
const backlog = [];
const idle = [];

function makeConn() {
  const c = { sock: connect(Number(url.port), url.hostname), due: 0, buf: Buffer.alloc(0), busy: false };
  c.sock.setNoDelay(true);
  c.sock.on('data', (d) => {
    c.buf = c.buf.length ? Buffer.concat([c.buf, d]) : d;
    for (;;) {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = c.buf.toString('latin1', 0, end);
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (c.buf.length < end + 4 + len) return;
      const status = Number(head.slice(9, 12));
      c.buf = c.buf.subarray(end + 4 + len);
      done(c, status);
    }
  });
  c.sock.on('error', () => {
    if (c.busy) {
      errors++;
      c.busy = false;
    }
  });
  c.sock.once('connect', () => release(c));
  return c;
}

function done(c, status) {
  latencies[completed++] = performance.now() - c.due;
  if (status < 200 || status >= 300) non2xx++;
  c.busy = false;
  release(c);
}

function release(c) {
  const due = backlog.shift();
  if (due !== undefined) send(c, due);
  else idle.push(c);
}

function send(c, due) {
  c.busy = true;
  c.due = due;
  c.sock.write(request);
}

const conns = Array.from({ length: nConn }, makeConn);
await new Promise((r) => setTimeout(r, 200)); // connections open before the clock starts
const start = performance.now();
const interval = 1000 / rate;

function tick() {
  const now = performance.now();
  const dueCount = Math.min(total, Math.floor((now - start) / interval) + 1);
  while (sent < dueCount) {
    const due = start + sent * interval;
    sent++;
    const c = idle.pop();
    if (c) send(c, due);
    else backlog.push(due);
  }
  if (sent < total) setTimeout(tick, 1);
}
tick();

const deadline = start + durationMs + 5000;
while (completed + errors < total && performance.now() < deadline)
  await new Promise((r) => setTimeout(r, 20));
const elapsedS = (performance.now() - start) / 1000;
for (const c of conns) c.sock.destroy();

const sorted = latencies.subarray(0, completed).sort();
const q = (p) =>
  completed ? Number(sorted[Math.min(completed - 1, Math.ceil(p * completed) - 1)].toFixed(2)) : null;
process.stdout.write(
  `${JSON.stringify({
    sent,
    completed,
    non2xx,
    errors: errors + (total - completed - errors),
    p50_ms: q(0.5),
    p90_ms: q(0.9),
    p99_ms: q(0.99),
    max_ms: completed ? Number(sorted[completed - 1].toFixed(2)) : null,
    req_per_s: Math.round(completed / Math.min(elapsedS, durationMs / 1000 + 5)),
  })}\n`,
);
process.exit(0);
