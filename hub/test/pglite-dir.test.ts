import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import { ENGINE_MARKER, PG_MAJOR_OF_ENGINE } from '../src/db/pglite-dir.js';
import { applyStoragePolicy, describeStorage } from '../src/db/storage-policy.js';
import { silentLog } from './backends.js';

/** The two PGlite builds side by side: each directory says which build made it; the other is refused. */
describe('embedded database directories of the two PGlite builds', () => {
  const root = mkdtempSync(join(tmpdir(), 'cityflow-pglite-dir-'));
  const plainDir = join(root, 'plain');
  const tsDir = join(root, 'timescale');
  beforeAll(async () => {
    const plain = await openDb(`pglite://${plainDir}`);
    await plain.exec('CREATE TABLE kept (v int); INSERT INTO kept VALUES (1)');
    await plain.close();
    const ts = await openDb(`pglite+timescaledb://${tsDir}`);
    await migrate(ts);
    expect(await applyStoragePolicy(ts, silentLog, 'wall')).toBe('timescaledb');
    await ts.close();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('each build writes the PostgreSQL major the guard expects, and the engine marker', () => {
    expect(readFileSync(join(plainDir, 'PG_VERSION'), 'utf8').trim()).toBe(PG_MAJOR_OF_ENGINE.pglite);
    expect(readFileSync(join(tsDir, 'pgdata', 'PG_VERSION'), 'utf8').trim()).toBe(
      PG_MAJOR_OF_ENGINE['pglite+timescaledb'],
    );
    expect(readFileSync(join(plainDir, ENGINE_MARKER), 'utf8').trim()).toBe('pglite');
    expect(readFileSync(join(tsDir, ENGINE_MARKER), 'utf8').trim()).toBe('pglite+timescaledb');
  });

  it("the other build's directory is refused with the URL that opens it; the lock is let go", async () => {
    await expect(openDb(`pglite+timescaledb://${plainDir}`)).rejects.toThrow(
      `was created by pglite (PostgreSQL 18) and cannot be opened as pglite+timescaledb (PostgreSQL 17): the two PGlite builds' data directories are not interchangeable. Open it with DATABASE_URL=pglite://${plainDir}`,
    );
    await expect(openDb(`pglite://${tsDir}`)).rejects.toThrow(`DATABASE_URL=pglite+timescaledb://${tsDir}`);
    expect(existsSync(join(plainDir, 'cityflow-hub.lock'))).toBe(false);
    const plain = await openDb(`pglite://${plainDir}`); // untouched by the refused attempt
    expect((await plain.query<{ v: number }>('SELECT v FROM kept')).rows).toEqual([{ v: 1 }]);
    await plain.close();
  });

  it('a directory without its marker is recognised by its PG_VERSION, and marked when opened', async () => {
    rmSync(join(plainDir, ENGINE_MARKER)); // as every plain directory made before the marker existed
    await expect(openDb(`pglite+timescaledb://${plainDir}`)).rejects.toThrow('was created by pglite (');
    await (await openDb(`pglite://${plainDir}`)).close();
    expect(readFileSync(join(plainDir, ENGINE_MARKER), 'utf8').trim()).toBe('pglite');
    rmSync(join(tsDir, ENGINE_MARKER));
    await expect(openDb(`pglite://${tsDir}`)).rejects.toThrow('was created by pglite+timescaledb');
    const ts = await openDb(`pglite+timescaledb://${tsDir}`);
    await ts.close();
    expect(readFileSync(join(tsDir, ENGINE_MARKER), 'utf8').trim()).toBe('pglite+timescaledb');
  });

  it('pglite+timescaledb on a directory: the hypertable and its policies survive a restart', async () => {
    const ts = await openDb(`pglite+timescaledb://${tsDir}`);
    try {
      expect(ts.backend).toBe('pglite+timescaledb');
      expect(await applyStoragePolicy(ts, silentLog, 'wall')).toBe('timescaledb');
      expect((await describeStorage(ts)).timescaledb).toMatchObject({
        active: true,
        hypertables: true,
        compression: true,
        continuous_aggregates: true,
        retention: true,
        jobs_run_by: 'hub',
      });
    } finally {
      await ts.close();
    }
  });
});
