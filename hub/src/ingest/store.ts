import type { SequencedStream } from '@cityflow/protocol';
import type { Db, Queryable } from '../db/db.js';
import {
  type StoreOutcome,
  insertForecasts,
  insertSummaries,
  storeSequenced,
} from '../store/ingest-store.js';
import type { StreamItems } from './envelope.js';
import type { Checked } from './validate.js';

const inserts: {
  [S in SequencedStream]: (tx: Queryable, agentId: string, items: StreamItems[S][]) => Promise<number>;
} = {
  summary: insertSummaries,
  forecast: insertForecasts,
};

/**
 * A database error caused by the data (SQLSTATE class 22 data exception, 23 integrity violation), not
 * by the database being away: retrying the same batch would fail forever and wedge the stream.
 */
export function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

export interface SequencedBatch<S extends SequencedStream> {
  agentId: string;
  incarnation: string;
  stream: S;
  checked: Array<Checked<StreamItems[S]>>;
  skipped: Array<[number, number]>;
}

/**
 * Stage 6: one transaction per batch (items, dead letters, watermark). Should the database refuse an
 * item the schema let through, the batch is retried item by item and the item it refuses is
 * rejected on its own (`CF_DB_ERROR`, quarantined), so the stream moves on.
 */
export async function storeBatch<S extends SequencedStream>(
  db: Db,
  b: SequencedBatch<S>,
): Promise<StoreOutcome> {
  const run = (checked: Array<Checked<StreamItems[S]>>, skipped: Array<[number, number]>, refuse = false) =>
    storeSequenced(db, {
      agentId: b.agentId,
      incarnation: b.incarnation,
      stream: b.stream,
      items: checked,
      skipped,
      check: (it) =>
        it.rejection ??
        (refuse ? { seq: it.seq, code: 'CF_DB_ERROR', message: 'the database refused this item' } : null),
      payloadOf: (it) => it.raw,
      insert: (tx, xs) =>
        inserts[b.stream](
          tx,
          b.agentId,
          xs.map((x) => x.value!),
        ),
    });
  try {
    return await run(b.checked, b.skipped);
  } catch (e) {
    if (!isDataError(e)) throw e;
  }
  let last: StoreOutcome | null = null;
  const total: StoreOutcome = {
    watermark: 0,
    maxSeq: 0,
    stored: 0,
    duplicates: 0,
    rejected: [],
    quarantinedBytes: 0,
  };
  for (const it of b.checked) {
    let out: StoreOutcome;
    try {
      out = await run([it], []);
    } catch (e) {
      if (!isDataError(e)) throw e;
      out = await run([it], [], true);
    }
    total.stored += out.stored;
    total.duplicates += out.duplicates;
    total.rejected.push(...out.rejected);
    total.quarantinedBytes += out.quarantinedBytes;
    last = out;
  }
  const tail = await run([], b.skipped);
  last = tail;
  return { ...total, watermark: last.watermark, maxSeq: last.maxSeq };
}
