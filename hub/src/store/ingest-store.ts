import {
  type ForecastRecord,
  type SequencedStream,
  type SummaryRecord,
  mergeSummaryStats,
  summaryMergeSql,
} from '@cityflow/protocol';
import type { Queryable } from '../db/db.js';
import { type SeqRange, advanceWatermark, inRanges, mergeRanges, rangesOf } from './watermark.js';

import type { Rejection } from '../ingest/refusal.js';
import { insertQuarantine } from './quarantine-store.js';

export type { Rejection };

export interface StoreOutcome {
  watermark: number;
  /** the highest seq resolved for this (agent, incarnation, stream) */
  maxSeq: number;
  /** items stored now */
  stored: number;
  /** items already resolved before (replays) */
  duplicates: number;
  rejected: Rejection[];
  /** bytes written to the quarantine */
  quarantinedBytes: number;
}

interface SequencedWrite<T extends { seq: number }> {
  agentId: string;
  /** '' (the default) for agents older than the incarnation rule */
  incarnation?: string;
  stream: SequencedStream;
  items: T[];
  skipped: Array<[number, number]>;
  /** returns a rejection for an item the hub refuses (quarantined, counts as resolved) */
  check(item: T): Rejection | null;
  /** what the quarantine keeps of a rejected item (default: the item) */
  payloadOf?(item: T): unknown;
  /** inserts the accepted new items; returns how many rows were really new */
  insert(tx: Queryable, items: T[]): Promise<number>;
}

/**
 * Stores one sequenced batch idempotently on (agent_id, incarnation, stream, seq) and advances the
 * contiguous watermark, all in one transaction. The watermark row is locked FOR UPDATE, which
 * serialises batches of the same agent stream across hub replicas; different agents never wait for
 * each other.
 */
export async function storeSequenced<T extends { seq: number }>(
  db: { transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R> },
  w: SequencedWrite<T>,
): Promise<StoreOutcome> {
  return db.transaction(async (tx) => {
    const key = [w.agentId, w.incarnation ?? '', w.stream];
    await tx.query(
      `INSERT INTO ingest_watermarks (agent_id, incarnation, stream) VALUES ($1, $2, $3)
       ON CONFLICT (agent_id, incarnation, stream) DO NOTHING`,
      key,
    );
    const head = await tx.query<{ watermark: string | number; max_seq: string | number }>(
      'SELECT watermark, max_seq FROM ingest_watermarks WHERE agent_id = $1 AND incarnation = $2 AND stream = $3 FOR UPDATE',
      key,
    );
    const wm0 = Number(head.rows[0]!.watermark);
    const maxSeq0 = Number(head.rows[0]!.max_seq);
    const pendingRows = await tx.query<{ seq_from: string | number; seq_to: string | number }>(
      'SELECT seq_from, seq_to FROM ingest_pending WHERE agent_id = $1 AND incarnation = $2 AND stream = $3',
      key,
    );
    const pending0: SeqRange[] = pendingRows.rows.map((r) => ({
      from: Number(r.seq_from),
      to: Number(r.seq_to),
    }));

    const fresh = w.items.filter((it) => it.seq > wm0 && !inRanges(it.seq, pending0));
    const rejected: Rejection[] = [];
    const accepted: T[] = [];
    const rejectedItems: T[] = [];
    for (const it of fresh) {
      const r = w.check(it);
      if (r) {
        rejected.push(r);
        rejectedItems.push(it);
      } else accepted.push(it);
    }
    const inserted = accepted.length ? await w.insert(tx, accepted) : 0;
    const quarantinedBytes = await insertQuarantine(
      tx,
      rejected.map((r, i) => ({
        agentId: w.agentId,
        stream: w.stream,
        incarnation: w.incarnation ?? '',
        seq: r.seq,
        code: r.code,
        message: r.message,
        payload: w.payloadOf ? w.payloadOf(rejectedItems[i]!) : rejectedItems[i],
      })),
    );
    const resolved = mergeRanges([
      ...rangesOf(fresh.map((it) => it.seq)),
      ...w.skipped.map(([from, to]) => ({ from, to })),
    ]);
    const next = advanceWatermark(wm0, pending0, resolved);
    const maxSeq = Math.max(maxSeq0, next.watermark, ...resolved.map((r) => r.to));
    const pendingChanged = JSON.stringify(next.pending) !== JSON.stringify(mergeRanges(pending0));
    if (pendingChanged) {
      await tx.query(
        'DELETE FROM ingest_pending WHERE agent_id = $1 AND incarnation = $2 AND stream = $3',
        key,
      );
      if (next.pending.length)
        await tx.query(
          `INSERT INTO ingest_pending (agent_id, incarnation, stream, seq_from, seq_to)
           SELECT $1, $2, $3, f, t FROM unnest($4::bigint[], $5::bigint[]) AS x(f, t)`,
          [...key, next.pending.map((r) => r.from), next.pending.map((r) => r.to)],
        );
    }
    if (next.watermark !== wm0 || maxSeq !== maxSeq0)
      await tx.query(
        `UPDATE ingest_watermarks SET watermark = $4, max_seq = $5, updated_at = now()
         WHERE agent_id = $1 AND incarnation = $2 AND stream = $3`,
        [...key, next.watermark, maxSeq],
      );
    return {
      watermark: next.watermark,
      maxSeq,
      stored: inserted,
      duplicates: w.items.length - fresh.length + (accepted.length - inserted),
      rejected,
      quarantinedBytes,
    };
  });
}

/**
 * Two summaries of one sensor and minute (the agent sends a late one for readings that arrived after the
 * minute closed) merged into one, by the protocol's one merge rule (the SQL upsert below is its SQL form);
 * `closed_at` stays the first one's, as in the upsert.
 */
export function mergeSummaries(a: SummaryRecord, b: SummaryRecord): SummaryRecord {
  return { ...a, ...mergeSummaryStats([a, b]), seq: Math.max(a.seq, b.seq) };
}

/**
 * Multi-row insert of per-minute summaries. A (sensor, minute) already stored is merged with the new
 * summary (a late summary adds its readings): replays never get here, they are filtered by seq first.
 * Summaries of one sensor and minute inside the batch are merged beforehand (an upsert may not touch
 * a row twice).
 */
export async function insertSummaries(
  tx: Queryable,
  agentId: string,
  batch: SummaryRecord[],
): Promise<number> {
  const byKey = new Map<string, SummaryRecord>();
  for (const it of batch) {
    const k = `${it.sensor_id}\u0000${Date.parse(it.minute)}`;
    const prev = byKey.get(k);
    byKey.set(k, prev ? mergeSummaries(prev, it) : it);
  }
  const items = [...byKey.values()];
  const col = <K extends keyof SummaryRecord>(k: K) => items.map((it) => it[k] ?? null);
  const r = await tx.query(
    `INSERT INTO traffic_minute AS t (minute, sensor_id, road_id, agent_id, seq, count, null_speed_count,
       speed_mean, speed_min, speed_max, flow_mean, occupancy_mean, flagged, closed_at)
     SELECT m, s, r, $1, q, c, n, sm, smin, smax, f, o, fl, ca
     FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::int[],
       $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::bool[],
       $14::timestamptz[])
       AS x(m, s, r, q, c, n, sm, smin, smax, f, o, fl, ca)
     -- closed_at is not updated: the row keeps its first storage time (ingested_at), so it keeps the
     -- close of that first summary (none, if it had none); a later close would make it negative.
     ON CONFLICT (sensor_id, minute) DO UPDATE SET
       ${summaryMergeSql('t', 'EXCLUDED')},
       seq = greatest(t.seq, EXCLUDED.seq)`,
    [
      agentId,
      col('minute'),
      col('sensor_id'),
      col('road_id'),
      col('seq'),
      col('count'),
      col('null_speed_count'),
      col('speed_mean'),
      col('speed_min'),
      col('speed_max'),
      col('flow_mean'),
      col('occupancy_mean'),
      items.map((it) => it.flagged ?? false),
      col('closed_at'),
    ],
  );
  // every row is inserted or merged; summaries merged inside the batch were stored too
  return r.rowCount + (batch.length - items.length);
}

/** Multi-row insert of agent forecasts into `predictions`. */
export async function insertForecasts(
  tx: Queryable,
  agentId: string,
  items: ForecastRecord[],
): Promise<number> {
  const col = <K extends keyof ForecastRecord>(k: K) => items.map((it) => it[k] ?? null);
  const r = await tx.query(
    `INSERT INTO predictions (ts, target_ts, road_id, horizon_min, speed_kmh, speed_lo_kmh, speed_hi_kmh,
       congestion_score, confidence, model_version, agent_id)
     SELECT ts, tt, r, h, s, lo, hi, c, cf, mv, $1
     FROM unnest($2::timestamptz[], $3::timestamptz[], $4::text[], $5::int[], $6::float8[], $7::float8[],
       $8::float8[], $9::float8[], $10::float8[], $11::text[]) AS t(ts, tt, r, h, s, lo, hi, c, cf, mv)
     ON CONFLICT (road_id, horizon_min, model_version, ts) DO NOTHING`,
    [
      agentId,
      col('ts'),
      col('target_ts'),
      col('road_id'),
      col('horizon_min'),
      col('speed_kmh'),
      col('speed_lo_kmh'),
      col('speed_hi_kmh'),
      col('congestion_score'),
      col('confidence'),
      col('model_version'),
    ],
  );
  return r.rowCount;
}

/**
 * The stored watermarks of one agent, the most recently updated incarnation per stream (re-published
 * as retained acks when it comes online; an agent of another incarnation ignores them).
 */
export async function watermarksOf(
  db: Queryable,
  agentId: string,
): Promise<Array<{ stream: SequencedStream; incarnation: string; watermark: number; maxSeq: number }>> {
  const r = await db.query<{
    stream: SequencedStream;
    incarnation: string;
    watermark: string | number;
    max_seq: string | number;
  }>(
    `SELECT DISTINCT ON (stream) stream, incarnation, watermark, max_seq FROM ingest_watermarks
     WHERE agent_id = $1 ORDER BY stream, updated_at DESC`,
    [agentId],
  );
  return r.rows.map((x) => ({
    stream: x.stream,
    incarnation: x.incarnation,
    watermark: Number(x.watermark),
    maxSeq: Number(x.max_seq),
  }));
}
