import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { salvage } from '../src/storage/db-salvage.js';
import { OutboxStore } from '../src/storage/outbox-store.js';
import { DB_FILE, openDb } from '../src/storage/sqlite.js';
import { tempDir, useCleanups } from './helpers/util.js';

/** An old file: summaries 5..10 pending above watermark 4, identity 'old'. */
function oldFile(dir: string, dropKv: boolean): string {
  const db = openDb(dir);
  const outbox = new OutboxStore(db);
  db.prepare("INSERT OR REPLACE INTO kv (key, value) VALUES ('incarnation', '\"old\"')").run();
  db.transaction(() => {
    for (let i = 1; i <= 10; i++) outbox.append('summary', { i }, i);
  })();
  outbox.applyAck('summary', 4);
  if (dropKv) db.exec('DROP TABLE kv'); // as if its pages did not read back
  db.close();
  return join(dir, DB_FILE);
}

describe('salvage keeps the hub right (the identity rule of fault 1)', () => {
  const cleanups = useCleanups();
  const fresh = () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const db = openDb(t.dir);
    cleanups.push(() => void db.close());
    // what the incarnation migration writes into a new file
    db.prepare("INSERT OR REPLACE INTO kv (key, value) VALUES ('incarnation', '\"new\"')").run();
    return db;
  };
  const seqs = (db: ReturnType<typeof openDb>) =>
    (
      db.prepare("SELECT seq FROM outbox WHERE stream = 'summary' ORDER BY seq").all() as Array<{
        seq: number;
      }>
    ).map((r) => r.seq);

  it('identity read back: same incarnation, same seqs, same counters', () => {
    const old = tempDir();
    cleanups.push(old.cleanup);
    const db = fresh();
    salvage(oldFile(old.dir, false), db);
    expect(db.prepare("SELECT value FROM kv WHERE key = 'incarnation'").get()).toEqual({ value: '"old"' });
    expect(seqs(db)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(db.prepare("SELECT next_seq, watermark FROM streams WHERE stream = 'summary'").get()).toEqual({
      next_seq: 11,
      watermark: 4,
    });
  });

  it('identity lost: the fresh incarnation starts its streams at 1 (the hub knows nothing under it)', () => {
    const old = tempDir();
    cleanups.push(old.cleanup);
    const db = fresh();
    salvage(oldFile(old.dir, true), db);
    expect(db.prepare("SELECT value FROM kv WHERE key = 'incarnation'").get()).toEqual({ value: '"new"' });
    expect(seqs(db)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(db.prepare("SELECT next_seq, watermark FROM streams WHERE stream = 'summary'").get()).toEqual({
      next_seq: 7,
      watermark: 0,
    });
    expect(new OutboxStore(db).stats('summary').pending).toBe(6);
  });
});
