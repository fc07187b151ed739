#!/usr/bin/env node
/**
 * Fault 3's start-up bound: how long the agent's corrupt-file check (`checkDbFile`: header, schema,
 * quick_check of every capped table, the newest raw readings) takes on a file at the outbox cap
 * (BENCH_OUTBOX_MB, default 64 = outboxMaxBytes) with BENCH_READINGS_MB of raw readings (default 256),
 * against a full `PRAGMA quick_check` of the same file (the peer, same run). The file is built with
 * the agent's own stores. Prints one JSON line. Needs `npx tsc -b`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { checkDbFile } from '../edge-agent/dist/storage/db-check.js';
import { OutboxStore } from '../edge-agent/dist/storage/outbox-store.js';
import { DB_FILE, openDb } from '../edge-agent/dist/storage/sqlite.js';

const OUTBOX = Number(process.env.BENCH_OUTBOX_MB ?? 64) * 1024 * 1024;
const READINGS = Number(process.env.BENCH_READINGS_MB ?? 256) * 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'cf-bench-dbcheck-'));
try {
  const db = openDb(dir, { sync: 'normal' });
  const outbox = new OutboxStore(db);
  const pad = 'x'.repeat(180);
  let bytes = 0;
  for (let n = 0; bytes < OUTBOX; ) {
    db.transaction(() => {
      for (let k = 0; k < 10_000 && bytes < OUTBOX; k++, n++) {
        const body = { sensor_id: `S-${n % 50}`, minute: n, count: 60, note: pad };
        bytes += JSON.stringify(body).length;
        outbox.append('summary', body, n);
      }
    })();
  }
  const ins = db.prepare(
    'INSERT INTO readings (ts_ms, sensor_id, road_id, speed, flow, occ, flagged, recv_ms) VALUES (?, ?, ?, ?, ?, ?, 0, ?)',
  );
  const fileBytes = () => statSync(join(dir, DB_FILE)).size;
  for (let i = 0; fileBytes() < OUTBOX + READINGS; ) {
    db.transaction(() => {
      for (let k = 0; k < 50_000; k++, i++)
        ins.run(i * 10, `S-${i % 50}`, `R-${i % 50}`, 40, 600, 0.1, i * 10);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  db.close();
  const file = join(dir, DB_FILE);
  const size = fileBytes();
  const t0 = performance.now();
  const problem = checkDbFile(file);
  const checkMs = performance.now() - t0;
  const full = new Database(file, { readonly: true });
  const t1 = performance.now();
  const res = full.pragma('quick_check', { simple: true });
  const fullMs = performance.now() - t1;
  full.close();
  const pass = problem === null && res === 'ok';
  console.log(
    JSON.stringify({
      name: 'agent-db-check',
      description: `corrupt-file check at start on a ${Math.round(size / 1048576)} MB file (${Math.round(OUTBOX / 1048576)} MB outbox, the rest raw readings) vs a full quick_check`,
      metrics: {
        file_mb: Math.round(size / 1048576),
        start_check_ms: Math.round(checkMs),
        full_quick_check_ms: Math.round(fullMs),
        ratio_full_over_start: Math.round((fullMs / checkMs) * 10) / 10,
      },
      pass,
    }),
  );
  process.exitCode = pass ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
