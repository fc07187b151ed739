import {
  SUMMARY_MERGE_CASES,
  type SummaryStats,
  addSummarySums,
  mergeSummaryStats,
  summaryFromSums,
  summaryToSums,
} from '@cityflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMerged } from '../../test-support/summary-merge.js';
import { type Db, openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import { insertSummaries, mergeSummaries } from '../src/store/ingest-store.js';

/** The protocol's one merge rule, against its one test table: the rule itself, hub TS and hub SQL. */
const rec = (s: SummaryStats, seq: number) => ({
  seq,
  sensor_id: 'S-1',
  road_id: 'R-1',
  minute: '2026-03-02T08:00:00Z',
  ...s,
});

describe('summary merge: every implementation passes SUMMARY_MERGE_CASES', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb('pglite://memory');
    await migrate(db);
  });
  afterAll(async () => db?.close());

  for (const c of SUMMARY_MERGE_CASES) {
    it(`protocol rule: ${c.name}`, () => expectMerged(mergeSummaryStats(c.parts), c.merged));
    it(`protocol rule over running sums (the agent's accumulation): ${c.name}`, () => {
      const [first, ...rest] = c.parts.map(summaryToSums);
      for (const p of rest) addSummarySums(first!, p);
      expectMerged(summaryFromSums(first!), c.merged);
    });
    it(`hub TS: ${c.name}`, () =>
      expectMerged(
        c.parts.map(rec).reduce((a, b) => mergeSummaries(a, b)),
        c.merged,
      ));
    it(`hub SQL upsert: ${c.name}`, async () => {
      await db.query('DELETE FROM traffic_minute');
      for (const [i, p] of c.parts.entries())
        await db.transaction((tx) => insertSummaries(tx, 'A1', [rec(p, i + 1)]));
      const r = await db.query<SummaryStats>(
        'SELECT count, null_speed_count, speed_mean, speed_min, speed_max, flow_mean, occupancy_mean, flagged FROM traffic_minute',
      );
      expect(r.rows).toHaveLength(1);
      expectMerged(r.rows[0]!, c.merged);
    });
  }
});
