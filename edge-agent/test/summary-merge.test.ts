import { SUMMARY_MERGE_CASES } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { mergeSummaries } from '../src/storage/downsample.js';

/** The agent's downsampling merge against the protocol's one test table (means rounded to 0.001). */
describe('agent downsample merge passes SUMMARY_MERGE_CASES', () => {
  for (const c of SUMMARY_MERGE_CASES)
    it(c.name, () => {
      const parts = c.parts.map((p, i) => ({
        sensor_id: 'S-1',
        road_id: 'R-1',
        minute: `2026-03-02T08:0${i}:00Z`,
        ...p,
        flagged: p.flagged || undefined,
      }));
      const m = mergeSummaries(parts);
      expect(m.count).toBe(c.merged.count);
      expect(m.null_speed_count).toBe(c.merged.null_speed_count);
      for (const k of ['speed_mean', 'speed_min', 'speed_max', 'flow_mean', 'occupancy_mean'] as const) {
        const w = c.merged[k];
        if (w === null) expect(m[k]).toBeNull();
        else expect(m[k]).toBeCloseTo(w, 3);
      }
      expect(m.flagged === true).toBe(c.merged.flagged === true);
      expect(m.minute).toBe('2026-03-02T08:00:00Z');
    });
});
