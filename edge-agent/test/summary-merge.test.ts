import { SUMMARY_MERGE_CASES, summaryToSums } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { expectMerged } from '../../test-support/summary-merge.js';
import { mergeSummaries } from '../src/storage/downsample.js';
import { MinuteAccStore } from '../src/storage/minute-acc-store.js';
import { openDb } from '../src/storage/sqlite.js';
import { tempDir, useCleanups } from './helpers/util.js';

const MINUTE = Date.UTC(2026, 2, 2, 8, 0);

/** The agent's two merges against the protocol's one test table. */
describe('agent merges pass SUMMARY_MERGE_CASES', () => {
  const cleanups = useCleanups();

  for (const c of SUMMARY_MERGE_CASES) {
    it(`downsample (means rounded to 0.001): ${c.name}`, () => {
      const parts = c.parts.map((p, i) => ({
        sensor_id: 'S-1',
        road_id: 'R-1',
        minute: `2026-03-02T08:0${i}:00Z`,
        ...p,
        flagged: p.flagged || undefined,
      }));
      const m = mergeSummaries(parts);
      expectMerged(m, c.merged, 3);
      expect(m.minute).toBe('2026-03-02T08:00:00Z');
    });

    it(`downsample keeps the earliest close time: ${c.name}`, () => {
      const parts = c.parts.map((p, i) => ({
        sensor_id: 'S-1',
        road_id: 'R-1',
        minute: `2026-03-02T08:0${i}:00Z`,
        ...p,
        // closed in reverse order, the first part not stamped at all (an untrusted clock then)
        ...(i === 0 ? {} : { closed_at: `2026-03-02T09:0${9 - i}:00.000Z` }),
      }));
      const expected = parts.length > 1 ? `2026-03-02T09:0${10 - parts.length}:00.000Z` : undefined;
      expect(mergeSummaries(parts).closed_at).toBe(expected);
    });

    it(`SQLite minute accumulator (one UPSERT per part, real file): ${c.name}`, () => {
      const tmp = tempDir();
      const db = openDb(tmp.dir);
      cleanups.push(tmp.cleanup, () => void db.close());
      const acc = new MinuteAccStore(db);
      for (const p of c.parts) acc.merge('S-1', 'R-1', MINUTE, summaryToSums(p));
      const rows = acc.take(MINUTE + 60_000);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ sensor_id: 'S-1', road_id: 'R-1', minute_ms: MINUTE });
      expectMerged(rows[0]!, c.merged);
      expect(acc.take(MINUTE + 60_000)).toEqual([]); // taken once
    });
  }
});
