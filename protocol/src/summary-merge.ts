import type { SummaryRecord } from './messages.js';

/** The statistics of a per-minute summary that a merge combines. */
export type SummaryStats = Pick<
  SummaryRecord,
  | 'count'
  | 'null_speed_count'
  | 'speed_mean'
  | 'speed_min'
  | 'speed_max'
  | 'flow_mean'
  | 'occupancy_mean'
  | 'flagged'
>;

/** Weight of a summary's speed mean: its non-null speed readings (0 when it has no speed). */
export const speedWeight = (s: Pick<SummaryStats, 'count' | 'null_speed_count' | 'speed_mean'>) =>
  s.speed_mean === null ? 0 : s.count - s.null_speed_count;

/**
 * The one rule for merging summaries of one sensor (a late summary into its minute at the hub, minute
 * summaries into a 5-minute one on a full agent outbox): counts add up (so sample totals stay exact),
 * `speed_mean` is weighted by the non-null speed readings, min/max span every part that has a speed,
 * `flow_mean` and `occupancy_mean` are weighted by count, `flagged` if any part is. The hub's SQL
 * upsert (`summaryMergeSql`) says the same in SQL; every implementation passes SUMMARY_MERGE_CASES.
 */
export function mergeSummaryStats(parts: SummaryStats[]): SummaryStats {
  let count = 0;
  let nulls = 0;
  let speedSum = 0;
  let speedN = 0;
  let flow = 0;
  let occ = 0;
  let min: number | null = null;
  let max: number | null = null;
  let flagged = false;
  for (const s of parts) {
    count += s.count;
    nulls += s.null_speed_count;
    const w = speedWeight(s);
    if (w > 0) {
      speedSum += (s.speed_mean as number) * w;
      speedN += w;
    }
    if (s.speed_min !== null) min = min === null ? s.speed_min : Math.min(min, s.speed_min);
    if (s.speed_max !== null) max = max === null ? s.speed_max : Math.max(max, s.speed_max);
    flow += s.flow_mean * s.count;
    occ += s.occupancy_mean * s.count;
    flagged ||= s.flagged === true;
  }
  return {
    count,
    null_speed_count: nulls,
    speed_mean: speedN > 0 ? speedSum / speedN : null,
    speed_min: min,
    speed_max: max,
    flow_mean: count > 0 ? flow / count : 0,
    occupancy_mean: count > 0 ? occ / count : 0,
    flagged,
  };
}

/**
 * The same rule as a PostgreSQL `ON CONFLICT ... DO UPDATE SET` list, merging the stored row `t` with
 * the incoming `EXCLUDED` one (columns named as the summary's fields).
 */
export function summaryMergeSql(t = 't', x = 'EXCLUDED'): string {
  const w = (r: string) =>
    `(CASE WHEN ${r}.speed_mean IS NULL THEN 0 ELSE ${r}.count - ${r}.null_speed_count END)`;
  return `count = ${t}.count + ${x}.count,
       null_speed_count = ${t}.null_speed_count + ${x}.null_speed_count,
       speed_mean = (coalesce(${t}.speed_mean, 0) * ${w(t)} + coalesce(${x}.speed_mean, 0) * ${w(x)})
         / nullif(${w(t)} + ${w(x)}, 0),
       speed_min = least(${t}.speed_min, ${x}.speed_min),
       speed_max = greatest(${t}.speed_max, ${x}.speed_max),
       flow_mean = (${t}.flow_mean * ${t}.count + ${x}.flow_mean * ${x}.count) / (${t}.count + ${x}.count),
       occupancy_mean = (${t}.occupancy_mean * ${t}.count + ${x}.occupancy_mean * ${x}.count)
         / (${t}.count + ${x}.count),
       flagged = ${t}.flagged OR ${x}.flagged`;
}

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
