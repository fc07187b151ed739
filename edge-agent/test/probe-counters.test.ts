import { describe, expect, it } from 'vitest';
import { MetaStore } from '../src/storage/meta-store.js';
import { enforceCaps } from '../src/storage/outbox-policy.js';
import { OutboxStore, PROBE_SQL } from '../src/storage/outbox-store.js';
import { ReadingsStore } from '../src/storage/readings-store.js';
import { type Db, openDb } from '../src/storage/sqlite.js';
import { tempDir, useCleanups } from './helpers/util.js';

/** What a full scan of the outbox says: the figures the maintained totals must equal. */
function scanned(db: Db, stream: string) {
  const r = db
    .prepare(
      'SELECT count(*) AS n, coalesce(sum(length(body)), 0) AS bytes, min(created_ms) AS oldest FROM outbox WHERE stream = ?',
    )
    .get(stream) as { n: number; bytes: number; oldest: number | null };
  const parked = (db.prepare('SELECT count(*) AS n FROM parked').get() as { n: number }).n;
  return { pending: r.n, bytes: r.bytes, oldestMs: r.oldest, parked };
}

const body = (i: number, pad = '') => ({ sensor_id: `S-${i}`, minute: i, count: i, note: pad });

describe('status/health probes are O(1) in the backlog (fault 6)', () => {
  const cleanups = useCleanups();

  it('the maintained totals equal a full scan across insert, ack, drop, park, rewrite, renumber and restart', () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    let db = openDb(tmp.dir);
    let outbox = new OutboxStore(db);
    const check = () => {
      for (const s of ['summary', 'forecast'] as const) {
        const st = outbox.stats(s);
        const scan = scanned(db, s);
        expect({ pending: st.pending, bytes: st.bytes, oldestMs: st.oldestMs }).toEqual({
          pending: scan.pending,
          bytes: scan.bytes,
          oldestMs: scan.oldestMs,
        });
        expect(outbox.parkedCount()).toBe(scan.parked);
      }
    };
    db.transaction(() => {
      for (let i = 0; i < 500; i++) outbox.append('summary', body(i, 'x'.repeat(i % 37)), 1000 + i);
      for (let i = 0; i < 50; i++) outbox.append('forecast', body(i), 2000 + i);
    })();
    check();
    expect(outbox.stats('summary').pending).toBe(500);
    outbox.applyAck('summary', 120);
    check();
    outbox.drop('summary', [130, 131, 200], 'full_summary');
    outbox.drop('forecast', [3, 4], 'parked', true);
    check();
    expect(outbox.parkedCount()).toBe(2);
    outbox.rewrite('summary', 300, body(300, 'y'.repeat(400)));
    check();
    // a hub that remembers more than this agent assigned: pending rows are renumbered
    outbox.applyAck('forecast', 10_000);
    check();
    // a failed transaction leaves totals and seqs as they were
    const before = { ...outbox.stats('summary') };
    expect(() =>
      db.transaction(() => {
        outbox.append('summary', body(9999), 5000);
        throw new Error('rolled back');
      })(),
    ).toThrow('rolled back');
    expect(outbox.stats('summary')).toEqual(before);
    // enforceCaps (the policy) goes through the same rows, so through the same triggers
    enforceCaps(
      db,
      outbox,
      new ReadingsStore(db),
      new MetaStore(db),
      {
        outboxMaxBytes: 5_000,
        outboxMaxAgeMs: 1e12,
        dbMaxBytes: 1e12,
        rawRetentionMs: 1e12,
        quarantineMax: 10,
      },
      10_000,
    );
    check();
    expect(outbox.stats('summary').bytes).toBeLessThanOrEqual(5_000);
    db.close();
    db = openDb(tmp.dir);
    cleanups.push(() => void db.close());
    outbox = new OutboxStore(db);
    check();
    expect(outbox.stats('summary').pending).toBeGreaterThan(0);
  });

  it('every statement a probe runs against the outbox is an index search, never a table scan', () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const db = openDb(tmp.dir);
    cleanups.push(() => void db.close());
    const outbox = new OutboxStore(db);
    db.transaction(() => {
      for (let i = 0; i < 2000; i++) outbox.append('summary', body(i), i);
    })();
    db.exec('ANALYZE');
    for (const sql of Object.values(PROBE_SQL)) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('summary') as Array<{ detail: string }>)
        .map((r) => r.detail)
        .join(' | ');
      expect(plan, sql).toMatch(/SEARCH/);
      expect(plan, sql).not.toMatch(/SCAN/);
    }
    // and stats() answers from the totals row, not from the rows: a tampered total shows through
    db.prepare("UPDATE totals SET n = 123456, bytes = 7 WHERE name = 'outbox:summary'").run();
    expect(outbox.stats('summary')).toMatchObject({ pending: 123456, bytes: 7 });
  });
});
