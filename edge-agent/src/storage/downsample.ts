import type { SummaryBody } from '../aggregate/summarizer.js';

/** Summaries of one sensor in one 5-minute bucket merge into one record. */
export const DOWNSAMPLE_BUCKET_MS = 5 * 60_000;

/**
 * Merges minute summaries of the same sensor and road: counts add up (so sample totals at the hub
 * stay exact), means are weighted (speed by non-null samples, flow and occupancy by samples),
 * min/max span all, `minute` is the earliest one. Used when the outbox is over its byte cap.
 */
export function mergeSummaries(items: SummaryBody[]): SummaryBody {
  const first = items.reduce((a, b) => (a.minute <= b.minute ? a : b));
  let count = 0;
  let nulls = 0;
  let speedSum = 0;
  let speedN = 0;
  let flow = 0;
  let occ = 0;
  let min: number | null = null;
  let max: number | null = null;
  let flagged = false;
  for (const s of items) {
    count += s.count;
    nulls += s.null_speed_count;
    const n = s.count - s.null_speed_count;
    if (s.speed_mean !== null && n > 0) {
      speedSum += s.speed_mean * n;
      speedN += n;
    }
    if (s.speed_min !== null) min = min === null ? s.speed_min : Math.min(min, s.speed_min);
    if (s.speed_max !== null) max = max === null ? s.speed_max : Math.max(max, s.speed_max);
    flow += s.flow_mean * s.count;
    occ += s.occupancy_mean * s.count;
    flagged ||= s.flagged === true;
  }
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const out: SummaryBody = {
    sensor_id: first.sensor_id,
    road_id: first.road_id,
    minute: first.minute,
    count,
    null_speed_count: nulls,
    speed_mean: speedN > 0 ? r3(speedSum / speedN) : null,
    speed_min: min,
    speed_max: max,
    flow_mean: r3(flow / count),
    occupancy_mean: Math.min(1, r3(occ / count)),
  };
  if (flagged) out.flagged = true;
  return out;
}

/** Groups never-sent summary rows by sensor, road and 5-minute bucket; only groups of 2+ are returned. */
export function downsampleGroups(
  rows: Array<{ seq: number; body: string }>,
): Array<Array<{ seq: number; body: SummaryBody }>> {
  const groups = new Map<string, Array<{ seq: number; body: SummaryBody }>>();
  for (const r of rows) {
    const body = JSON.parse(r.body) as SummaryBody;
    const bucket = Math.floor(Date.parse(body.minute) / DOWNSAMPLE_BUCKET_MS);
    const key = `${body.sensor_id}\u0000${body.road_id}\u0000${bucket}`;
    let g = groups.get(key);
    if (!g) {
      g = [];
      groups.set(key, g);
    }
    g.push({ seq: r.seq, body });
  }
  return [...groups.values()].filter((g) => g.length > 1);
}
