import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB_FILE, openDb, startCheckpointer } from '../src/storage/sqlite.js';
import { tempDir, useCleanups, waitFor } from './helpers/util.js';

describe('WAL checkpoints off the main thread', () => {
  const cleanups = useCleanups();

  it('the worker copies committed pages into the database file while the main connection never checkpoints', async () => {
    const tmp = tempDir();
    const db = openDb(tmp.dir);
    cleanups.push(tmp.cleanup, () => void db.close());
    const stop = startCheckpointer(db, tmp.dir, 50, (e) => {
      throw e;
    });
    cleanups.push(stop);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const file = join(tmp.dir, DB_FILE);
    const before = statSync(file).size;
    const ins = db.prepare("INSERT INTO kv (key, value) VALUES (?, '" + 'x'.repeat(500) + "')");
    for (let i = 0; i < 2000; i++) ins.run(`k${i}`);
    // without the worker every page would still be in the WAL and the main file would not grow
    await waitFor(
      () => statSync(file).size > before + 500_000,
      'pages checkpointed into the main file',
      5000,
      50,
    );
    await stop();
  });
});
