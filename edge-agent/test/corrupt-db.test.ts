import { closeSync, existsSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SUSPECT_FILE } from '../src/storage/db-check.js';
import { DB_FILE, openDb } from '../src/storage/sqlite.js';
import { exited, spawnAgent } from './helpers/child.js';
import { connect, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

const SENSORS = 10;
const MINUTES = 30;
const T0 = Date.UTC(2026, 1, 9, 6, 0, 0);
const args = (dir: string) => [
  ...['--agent-id', 'A-CC', '--data-dir', dir, '--mqtt-port', '0', '--http-port', '0', '--clock', 'data'],
];

/** Overwrites whole pages with garbage, as a torn write on a cheap SD card leaves them. */
function trash(file: string, pages: number[], pageSize: number): void {
  const fd = openSync(file, 'r+');
  try {
    const junk = Buffer.alloc(pageSize);
    for (let i = 0; i < pageSize; i++) junk[i] = (i * 131 + 7) & 0xff;
    for (const p of pages) writeSync(fd, junk, 0, pageSize, (p - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
}

describe('a corrupt SQLite file at start (fault 3), real agent process', () => {
  const cleanups = useCleanups();

  it('is detected, moved aside with a timestamp, salvaged into a fresh file with continuous seqs; CF_DB_CORRUPT raised; ingest goes on', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    // 1. a buffer with MINUTES × SENSORS pending summaries (no hub), then power loss (kill -9)
    const first = await spawnAgent(args(tmp.dir));
    cleanups.push(() => void first.child.kill('SIGKILL'));
    const c = await connect(first.ready.mqtt_url);
    for (let t = 0; t <= MINUTES * 60 + 10; t += 10)
      await Promise.all(
        Array.from({ length: SENSORS }, (_, s) =>
          c.publishAsync(`cityflow/traffic/S-${s}`, reading(`S-${s}`, `R-${s}`, T0 + t * 1000), { qos: 1 }),
        ),
      );
    await waitFor(
      async () =>
        (await (await fetch(`${first.ready.http_url}/status`)).json()).streams.summary.highest_seq >=
        MINUTES * SENSORS,
      'summaries',
      30_000,
    );
    await c.endAsync();
    first.child.kill('SIGTERM'); // checkpoint the WAL into the file, so the damage below hits real pages
    await exited(first.child);

    // 2. damage: two leaf pages in the middle of the outbox (pending summaries) and one of the readings
    const file = join(tmp.dir, DB_FILE);
    const probe = new Database(file, { readonly: true });
    const pageSize = probe.pragma('page_size', { simple: true }) as number;
    const leaves = (name: string) =>
      (
        probe
          .prepare("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno")
          .all(name) as Array<{
          pageno: number;
        }>
      ).map((r) => r.pageno);
    const outboxLeaves = leaves('outbox');
    const readingLeaves = leaves('readings');
    const highest =
      (probe.prepare("SELECT next_seq FROM streams WHERE stream = 'summary'").get() as { next_seq: number })
        .next_seq - 1;
    probe.close();
    expect(outboxLeaves.length).toBeGreaterThan(6);
    const mid = Math.floor(outboxLeaves.length / 2);
    trash(
      file,
      [outboxLeaves[mid]!, outboxLeaves[mid + 2]!, readingLeaves[Math.floor(readingLeaves.length / 2)]!],
      pageSize,
    );

    // 3. restart: the agent comes up (it crash-looped before), on a fresh file, with the alarm
    const t0 = Date.now();
    const second = await spawnAgent(args(tmp.dir));
    cleanups.push(() => void second.child.kill('SIGKILL'));
    const startMs = Date.now() - t0;
    const status = await (await fetch(`${second.ready.http_url}/status`)).json();
    const alarm = status.alarms.find((a: { code: string }) => a.code === 'CF_DB_CORRUPT');
    expect(alarm?.message).toMatch(/corrupt database moved to .*agent\.sqlite\.corrupt-\d{4}-\d\d-\d\dT/);
    const moved = readdirSync(tmp.dir).filter((f) => f.startsWith(`${DB_FILE}.corrupt-`));
    expect(moved.length).toBeGreaterThanOrEqual(1);
    expect(startMs).toBeLessThan(30_000); // generous on a loaded machine; the figure is in the README
    // the summary stream continues where it was: nothing renumbered, the seq counter kept
    expect(status.streams.summary.highest_seq).toBe(highest);
    const salvagedPending = status.streams.summary.pending as number;
    expect(salvagedPending).toBeGreaterThan(highest / 2); // most rows read back
    expect(salvagedPending).toBeLessThan(highest); // two pages' worth did not

    // 4. ingest goes on in the fresh file
    const c2 = await connect(second.ready.mqtt_url);
    await c2.publishAsync('cityflow/traffic/S-0', reading('S-0', 'R-0', T0 + (MINUTES * 60 + 5) * 1000), {
      qos: 1,
    });
    await c2.endAsync();
    second.child.kill('SIGTERM');
    expect((await exited(second.child)).code).toBe(0);

    // 5. every seq 1..highest is either salvaged or recorded as skipped (`corrupt`): the hub's
    // contiguous watermark can pass the lost ones, and the loss is counted
    const db = openDb(tmp.dir);
    cleanups.push(() => void db.close());
    const present = new Set(
      (db.prepare("SELECT seq FROM outbox WHERE stream = 'summary'").all() as Array<{ seq: number }>).map(
        (r) => r.seq,
      ),
    );
    const skipped = db
      .prepare("SELECT from_seq, to_seq, reason FROM skipped WHERE stream = 'summary'")
      .all() as Array<{
      from_seq: number;
      to_seq: number;
      reason: string;
    }>;
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.every((k) => k.reason === 'corrupt')).toBe(true);
    const uncovered: number[] = [];
    for (let s = 1; s <= highest; s++)
      if (!present.has(s) && !skipped.some((k) => s >= k.from_seq && s <= k.to_seq)) uncovered.push(s);
    expect(uncovered).toEqual([]);
    const lost = skipped.reduce((a, k) => a + k.to_seq - k.from_seq + 1, 0);
    expect(present.size + lost).toBe(highest);
    const rec = JSON.parse(
      (db.prepare("SELECT value FROM kv WHERE key = 'db_recovery'").get() as { value: string }).value,
    );
    expect(rec.lost_seqs.summary).toBe(lost);
    expect(rec.salvaged.readings).toBeGreaterThan(0);
  }, 180_000);

  it('damage the bounded check does not read (old raw readings) is found by the full check a SQLITE_CORRUPT write asks for', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const first = await spawnAgent(args(tmp.dir));
    cleanups.push(() => void first.child.kill('SIGKILL'));
    const c = await connect(first.ready.mqtt_url);
    // more readings than the bounded check reads back from the tail (5,000)
    for (let t0 = 0; t0 < 8000; t0 += 500)
      await Promise.all(
        Array.from({ length: 500 }, (_, k) =>
          c.publishAsync('cityflow/traffic/S-1', reading('S-1', 'R-1', T0 + (t0 + k) * 1000), { qos: 1 }),
        ),
      );
    await c.endAsync();
    first.child.kill('SIGTERM');
    await exited(first.child);
    const file = join(tmp.dir, DB_FILE);
    const probe = new Database(file, { readonly: true });
    const pageSize = probe.pragma('page_size', { simple: true }) as number;
    const leaves = (
      probe
        .prepare("SELECT pageno FROM dbstat WHERE name = 'readings' AND pagetype = 'leaf' ORDER BY pageno")
        .all() as Array<{
        pageno: number;
      }>
    ).map((r) => r.pageno);
    probe.close();
    trash(file, [leaves[2]!], pageSize); // old readings: outside the bounded check's tail

    // without the marker the bounded check passes (the damage is in old raw readings only)
    const second = await spawnAgent(args(tmp.dir));
    cleanups.push(() => void second.child.kill('SIGKILL'));
    const s2 = await (await fetch(`${second.ready.http_url}/status`)).json();
    expect(s2.alarms.map((a: { code: string }) => a.code)).not.toContain('CF_DB_CORRUPT');
    second.child.kill('SIGTERM');
    await exited(second.child);
    // what a SQLITE_CORRUPT write leaves behind: the next start checks every page and recovers
    writeFileSync(join(tmp.dir, SUSPECT_FILE), 'test\n');
    const third = await spawnAgent(args(tmp.dir));
    cleanups.push(() => void third.child.kill('SIGKILL'));
    const s3 = await (await fetch(`${third.ready.http_url}/status`)).json();
    expect(s3.alarms.map((a: { code: string }) => a.code)).toContain('CF_DB_CORRUPT');
    expect(existsSync(join(tmp.dir, SUSPECT_FILE))).toBe(false);
    expect(s3.readings_total).toBe(8000); // counters salvaged
    third.child.kill('SIGTERM');
    await exited(third.child);
  }, 180_000);
});
