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

/**
 * The same statistics as running sums (each mean times its weight), the form an accumulator keeps:
 * merging sums is plain addition, so a minute fed by many commits stays exact, and the means are
 * divided out once when the minute closes (`summaryFromSums`).
 */
export interface SummarySums {
  count: number;
  null_speed_count: number;
  speed_sum: number;
  speed_min: number | null;
  speed_max: number | null;
  flow_sum: number;
  occupancy_sum: number;
  flagged: boolean;
}

/** Weight of a summary's speed mean: its non-null speed readings (0 when it has no speed). */
export const speedWeight = (s: Pick<SummaryStats, 'count' | 'null_speed_count' | 'speed_mean'>) =>
  s.speed_mean === null ? 0 : s.count - s.null_speed_count;

type Mean = 'speed_mean' | 'flow_mean' | 'occupancy_mean';
type Sum = 'speed_sum' | 'flow_sum' | 'occupancy_sum';

/** What a mean is weighted by, in each form it is stored in (summary fields, or running sums). */
export interface MergeWeight {
  of(s: SummaryStats): number;
  /** the weight of the row `r`, whose columns are named as the summary's fields */
  sql(r: string): string;
  ofSums(s: SummarySums): number;
}

const READINGS: MergeWeight = { of: (s) => s.count, sql: (r) => `${r}.count`, ofSums: (s) => s.count };
// In the sum form the speed's weight is count − null_speed_count: the same as speedWeight for every
// summary built from readings (it has a speed_mean exactly when some reading had a speed).
const SPEEDS: MergeWeight = {
  of: speedWeight,
  sql: (r) => `(CASE WHEN ${r}.speed_mean IS NULL THEN 0 ELSE ${r}.count - ${r}.null_speed_count END)`,
  ofSums: (s) => s.count - s.null_speed_count,
};

export type SummaryMergeRule =
  | { field: 'count' | 'null_speed_count'; rule: 'add' }
  | { field: 'speed_min'; rule: 'min' }
  | { field: 'speed_max'; rule: 'max' }
  | { field: 'flagged'; rule: 'any' }
  /** weighted by `weight`; `empty` when no part weighs anything */
  | { field: Mean; rule: 'mean'; weight: MergeWeight; sum: Sum; empty: null | 0 };

/**
 * The one rule for merging summaries of one sensor (a late summary into its minute at the hub, minute
 * summaries into a 5-minute one on a full agent outbox, a commit's readings into the agent's minute
 * accumulator): counts add up (so sample totals stay exact), `speed_mean` is weighted by the non-null
 * speed readings, min/max span every part that has a speed, `flow_mean` and `occupancy_mean` are
 * weighted by count, `flagged` if any part is. Every implementation is read off this table —
 * `mergeSummaryStats` and `addSummarySums` here, the SQL of summary-merge-sql.ts — and passes
 * SUMMARY_MERGE_CASES.
 */
export const SUMMARY_MERGE_RULES: readonly SummaryMergeRule[] = [
  { field: 'count', rule: 'add' },
  { field: 'null_speed_count', rule: 'add' },
  { field: 'speed_mean', rule: 'mean', weight: SPEEDS, sum: 'speed_sum', empty: null },
  { field: 'speed_min', rule: 'min' },
  { field: 'speed_max', rule: 'max' },
  { field: 'flow_mean', rule: 'mean', weight: READINGS, sum: 'flow_sum', empty: 0 },
  { field: 'occupancy_mean', rule: 'mean', weight: READINGS, sum: 'occupancy_sum', empty: 0 },
  { field: 'flagged', rule: 'any' },
];

/** The null-aware min/max: a part without a value does not take part. */
const pick = (f: (a: number, b: number) => number, a: number | null, b: number | null) =>
  a === null ? b : b === null ? a : f(a, b);

/** The rule over summaries (means weighted by their parts). */
export function mergeSummaryStats(parts: SummaryStats[]): SummaryStats {
  const out: Record<string, number | boolean | null> = {};
  for (const r of SUMMARY_MERGE_RULES) {
    if (r.rule === 'add') out[r.field] = parts.reduce((a, s) => a + s[r.field], 0);
    else if (r.rule === 'min' || r.rule === 'max') {
      const f = r.rule === 'min' ? Math.min : Math.max;
      out[r.field] = parts.reduce<number | null>((a, s) => pick(f, a, s[r.field]), null);
    } else if (r.rule === 'any') out[r.field] = parts.some((s) => s.flagged === true);
    else {
      let sum = 0;
      let n = 0;
      for (const s of parts) {
        const w = r.weight.of(s);
        if (w > 0) {
          sum += (s[r.field] as number) * w;
          n += w;
        }
      }
      out[r.field] = n > 0 ? sum / n : r.empty;
    }
  }
  return out as SummaryStats;
}

/**
 * Adds `part` into `into` (the rule over running sums: means are sums here, so they add). Compiled
 * from the table once, as straight-line code: the agent runs it for every reading of a group commit,
 * and a loop over the rules with keyed property access costs 1.5-2.6x the hand-written accumulation
 * it replaces, the compiled form 0.8-1.2x (bench/summary-sums.js, 5,000-reading commits).
 */
export const addSummarySums = new Function(
  'a',
  'b',
  SUMMARY_MERGE_RULES.map((r) => {
    if (r.rule === 'add') return `a.${r.field} += b.${r.field};`;
    if (r.rule === 'mean') return `a.${r.sum} += b.${r.sum};`;
    if (r.rule === 'any') return `a.${r.field} = a.${r.field} || b.${r.field};`;
    const f = r.rule === 'min' ? 'Math.min' : 'Math.max';
    return `if (b.${r.field} !== null) a.${r.field} = a.${r.field} === null ? b.${r.field} : ${f}(a.${r.field}, b.${r.field});`;
  }).join('\n'),
) as (into: SummarySums, part: SummarySums) => void;

/** A summary as running sums (its means times their weights). */
export function summaryToSums(s: SummaryStats): SummarySums {
  const out: Record<string, number | boolean | null> = {};
  for (const r of SUMMARY_MERGE_RULES)
    if (r.rule === 'mean') {
      const w = r.weight.of(s);
      out[r.sum] = w > 0 ? (s[r.field] as number) * w : 0;
    } else out[r.field] = r.rule === 'any' ? s.flagged === true : s[r.field];
  return out as unknown as SummarySums;
}

/** Running sums back to a summary: each mean is its sum over its weight (`empty` without weight). */
export function summaryFromSums(s: SummarySums): SummaryStats {
  const out: Record<string, number | boolean | null> = {};
  for (const r of SUMMARY_MERGE_RULES)
    if (r.rule === 'mean') {
      const w = r.weight.ofSums(s);
      out[r.field] = w > 0 ? s[r.sum] / w : r.empty;
    } else out[r.field] = s[r.field];
  return out as SummaryStats;
}
