import { mergeSummaryStats } from '@cityflow/protocol';
import type { SummaryBody } from '../aggregate/summarizer.js';

/** Summaries of one sensor in one 5-minute bucket merge into one record. */
export const DOWNSAMPLE_BUCKET_MS = 5 * 60_000;

/**
 * Merges minute summaries of the same sensor and road by the protocol's one merge rule
 * (`mergeSummaryStats`), means rounded to 0.001 for the outbox; `minute` and `closed_at` are the
 * earliest ones. Used
 * when the outbox is over its byte cap.
 */
export function mergeSummaries(items: SummaryBody[]): SummaryBody {
  const first = items.reduce((a, b) => (a.minute <= b.minute ? a : b));
  const m = mergeSummaryStats(items);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const out: SummaryBody = {
    sensor_id: first.sensor_id,
    road_id: first.road_id,
    minute: first.minute,
    count: m.count,
    null_speed_count: m.null_speed_count,
    speed_mean: m.speed_mean === null ? null : r3(m.speed_mean),
    speed_min: m.speed_min,
    speed_max: m.speed_max,
    flow_mean: r3(m.flow_mean),
    occupancy_mean: Math.min(1, r3(m.occupancy_mean)),
  };
  if (m.flagged) out.flagged = true;
  // The earliest close: the hub's ingest latency then counts the whole wait of the oldest minute,
  // which is what a backlog squeezed by the outbox cap has been through.
  const closes = items.flatMap((i) => (i.closed_at ? [Date.parse(i.closed_at)] : []));
  if (closes.length) out.closed_at = new Date(Math.min(...closes)).toISOString();
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
