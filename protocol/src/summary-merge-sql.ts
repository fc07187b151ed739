import { SUMMARY_MERGE_RULES, type SummarySums } from './summary-merge.js';

/**
 * SUMMARY_MERGE_RULES as the `SET` list of an `ON CONFLICT ... DO UPDATE`, merging the stored row `t`
 * with the incoming one `x`. Generated from the table, so SQL and TypeScript cannot drift apart.
 */

/**
 * PostgreSQL, summary columns named as the summary's fields (the hub's `traffic_minute`): each mean is
 * weighted by its parts, least/greatest skip NULLs as the rule does.
 */
export function summaryMergeSql(t = 't', x = 'EXCLUDED'): string {
  return SUMMARY_MERGE_RULES.map((r) => {
    const f = r.field;
    if (r.rule === 'add') return `${f} = ${t}.${f} + ${x}.${f}`;
    if (r.rule === 'min') return `${f} = least(${t}.${f}, ${x}.${f})`;
    if (r.rule === 'max') return `${f} = greatest(${t}.${f}, ${x}.${f})`;
    if (r.rule === 'any') return `${f} = ${t}.${f} OR ${x}.${f}`;
    const [wt, wx] = [r.weight.sql(t), r.weight.sql(x)];
    const mean = `(coalesce(${t}.${f}, 0) * ${wt} + coalesce(${x}.${f}, 0) * ${wx}) / nullif(${wt} + ${wx}, 0)`;
    return `${f} = ${r.empty === null ? mean : `coalesce(${mean}, ${r.empty})`}`;
  }).join(',\n       ');
}

/**
 * SQLite, running sums (the agent's minute accumulator), with the table's own column names: sums add
 * (the means are divided out by `summaryFromSums` when the minute closes). SQLite's two-argument
 * min()/max() return NULL when either side is NULL, hence the coalesce; `flagged` is an INTEGER 0/1.
 */
export function summarySumsMergeSqlite(
  columns: Record<keyof SummarySums, string>,
  t: string,
  x = 'excluded',
): string {
  return SUMMARY_MERGE_RULES.map((r) => {
    const c = columns[r.rule === 'mean' ? r.sum : r.field];
    if (r.rule === 'min' || r.rule === 'max')
      return `${c} = coalesce(${r.rule}(${t}.${c}, ${x}.${c}), ${t}.${c}, ${x}.${c})`;
    if (r.rule === 'any') return `${c} = ${t}.${c} OR ${x}.${c}`;
    return `${c} = ${t}.${c} + ${x}.${c}`;
  }).join(',\n       ');
}
