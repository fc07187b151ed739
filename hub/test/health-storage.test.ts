import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { insertSummaries, storeSequenced } from '../src/store/ingest-store.js';
import { type BackendDb, describeEachBackend } from './backends.js';
import { summary, testHub } from './helpers.js';

describeEachBackend(
  '/health names the storage backend and the TimescaleDB features in use',
  (backend, mk) => {
    let target: BackendDb;
    let hub: RunningHub;
    const timescale = backend === 'pglite+timescaledb';
    beforeAll(async () => {
      target = await mk();
      hub = await testHub({ databaseUrl: target.url });
    });
    afterAll(async () => {
      await hub?.stop();
      await target?.drop();
    });

    it('reports the backend, and the hypertable, compression, continuous aggregate and retention when active', async () => {
      const r = await hub.app.inject({ method: 'GET', url: '/health' });
      expect(r.statusCode).toBe(200);
      expect(r.json().storage).toEqual({
        backend,
        timescaledb: {
          active: timescale,
          version: timescale ? expect.stringMatching(/^2\.23\./) : null,
          hypertables: timescale,
          compression: timescale,
          continuous_aggregates: timescale,
          retention: timescale,
          jobs_run_by: timescale ? 'hub' : null,
        },
      });
    });

    if (timescale)
      it("the hub's cycle runs the policy jobs PGlite has no background worker for", async () => {
        const mat = await hub.db.query<{ s: string; t: string }>(
          `SELECT materialization_hypertable_schema AS s, materialization_hypertable_name AS t
         FROM timescaledb_information.continuous_aggregates WHERE view_name = 'traffic_hourly'`,
        );
        const materialized = async () =>
          (
            await hub.db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM ${mat.rows[0]!.s}.${mat.rows[0]!.t}`,
            )
          ).rows[0]!.n;
        const hourStart = Math.floor((Date.now() - 5 * 3600_000) / 3600_000) * 3600_000;
        const items = Array.from({ length: 60 }, (_, i) =>
          summary(i + 1, 'R00-10', new Date(hourStart + i * 60_000).toISOString()),
        );
        await storeSequenced(hub.db, {
          agentId: 'A1',
          stream: 'summary',
          items,
          skipped: [],
          check: () => null,
          insert: (tx, xs) => insertSummaries(tx, 'A1', xs),
        });
        expect(await materialized()).toBe(0);
        expect(await hub.cycles.runOnce()).toBe(true);
        expect(await materialized()).toBe(1);
      });
  },
);
