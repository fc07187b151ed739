import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CliFailure, openStores } from '../src/cli/common.js';
import { startAgent } from '../src/index.js';
import { DB_FILE, SCHEMA_VERSION } from '../src/storage/sqlite.js';
import { tempDir, useCleanups } from './helpers/util.js';

describe('inspection verbs (status, doctor, buffer) never write the database', () => {
  const cleanups = useCleanups();

  it('opens read-only; a file of an older schema is reported, not migrated', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir });
    await agent.stop();
    const stores = openStores(tmp.dir);
    expect(stores.db.readonly).toBe(true);
    expect(() => stores.meta.set('x', 1)).toThrow(/readonly/i);
    expect(stores.outbox.stats('summary').pending).toBe(0);
    stores.db.close();

    const old = tempDir();
    cleanups.push(old.cleanup);
    const raw = new Database(join(old.dir, DB_FILE));
    raw.exec('CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    raw.pragma('user_version = 1');
    raw.close();
    expect(() => openStores(old.dir)).toThrow(CliFailure);
    expect(() => openStores(old.dir)).toThrow(
      new RegExp(`schema v1, older than this agent's v${SCHEMA_VERSION}`),
    );
    const after = new Database(join(old.dir, DB_FILE), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(1);
    after.close();
  });
});
