import type { SummaryStats } from './summary-merge.js';

const S = (o: Partial<SummaryStats>): SummaryStats => ({
  count: 10,
  null_speed_count: 0,
  speed_mean: 40,
  speed_min: 30,
  speed_max: 50,
  flow_mean: 600,
  occupancy_mean: 0.1,
  flagged: false,
  ...o,
});

/** The test table every merge implementation must pass (parts merged in order). */
export const SUMMARY_MERGE_CASES: Array<{ name: string; parts: SummaryStats[]; merged: SummaryStats }> = [
  {
    name: 'counts add; speed weighted by non-null readings; flow and occupancy by count',
    parts: [
      S({ count: 10, null_speed_count: 2, speed_mean: 40 }),
      S({
        count: 4,
        null_speed_count: 0,
        speed_mean: 20,
        speed_min: 15,
        speed_max: 25,
        flow_mean: 300,
        occupancy_mean: 0.3,
      }),
    ],
    merged: S({
      count: 14,
      null_speed_count: 2,
      speed_mean: (40 * 8 + 20 * 4) / 12,
      speed_min: 15,
      speed_max: 50,
      flow_mean: (600 * 10 + 300 * 4) / 14,
      occupancy_mean: (0.1 * 10 + 0.3 * 4) / 14,
    }),
  },
  {
    name: 'a part without any speed adds its count but does not weigh on the speed',
    parts: [
      S({
        count: 6,
        null_speed_count: 6,
        speed_mean: null,
        speed_min: null,
        speed_max: null,
        occupancy_mean: 0.5,
      }),
      S({ count: 2 }),
    ],
    merged: S({
      count: 8,
      null_speed_count: 6,
      speed_mean: 40,
      speed_min: 30,
      speed_max: 50,
      occupancy_mean: (0.5 * 6 + 0.1 * 2) / 8,
    }),
  },
  {
    name: 'a part without speed between parts with one: min and max still span the parts with one',
    parts: [
      S({}),
      S({ count: 4, null_speed_count: 4, speed_mean: null, speed_min: null, speed_max: null }),
      S({ count: 2, speed_mean: 60, speed_min: 55, speed_max: 70 }),
    ],
    merged: S({ count: 16, null_speed_count: 4, speed_mean: (40 * 10 + 60 * 2) / 12, speed_max: 70 }),
  },
  {
    name: 'no speed anywhere stays null',
    parts: [
      S({ count: 3, null_speed_count: 3, speed_mean: null, speed_min: null, speed_max: null }),
      S({ count: 1, null_speed_count: 1, speed_mean: null, speed_min: null, speed_max: null }),
    ],
    merged: S({ count: 4, null_speed_count: 4, speed_mean: null, speed_min: null, speed_max: null }),
  },
  {
    name: 'flagged if any part is',
    parts: [S({ flagged: true }), S({})],
    merged: S({ count: 20, flagged: true }),
  },
];
