import type { Queryable } from '../db/db.js';

/**
 * Dead letters. The payload is kept as bytes (`body`, bytea): any size up to the row cap and any
 * content (a `\u0000` that jsonb refuses, JSON that does not parse) is stored as it came. `payload`
 * (jsonb) is filled too when the value is JSON that jsonb accepts, for SQL inspection.
 */
export const QUARANTINE_LIMITS = {
  /** a row keeps at most this many bytes of its payload (`truncated` says when it was cut) */
  maxRowBytes: 1 << 20,
  /** payloads up to this size also go to the jsonb column */
  maxJsonbBytes: 64 << 10,
  /** default total bound (CITYFLOW_QUARANTINE_MAX_BYTES): beyond it the oldest rows go first */
  defaultMaxTotalBytes: 256 << 20,
} as const;

export interface QuarantineRow {
  agentId: string | null;
  stream: string | null;
  incarnation?: string | null;
  seq?: number | null;
  code: string;
  message: string;
  /** a parsed value (stored as its JSON text) or the raw bytes of a message that did not parse */
  payload: unknown;
}

export function encodePayload(payload: unknown): { body: Buffer; json: string | null; truncated: boolean } {
  const full = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(JSON.stringify(payload === undefined ? null : payload) ?? 'null', 'utf8');
  const truncated = full.length > QUARANTINE_LIMITS.maxRowBytes;
  const body = truncated ? full.subarray(0, QUARANTINE_LIMITS.maxRowBytes) : full;
  const text = Buffer.isBuffer(payload) || truncated ? null : body.toString('utf8');
  // jsonb refuses the NUL character; such a value is kept in `body` only
  const json =
    text !== null && body.length <= QUARANTINE_LIMITS.maxJsonbBytes && !text.includes('\\u0000')
      ? text
      : null;
  return { body, json, truncated };
}

/** Inserts dead letters in one statement; returns the bytes stored. Awaited by every caller. */
export async function insertQuarantine(q: Queryable, rows: QuarantineRow[]): Promise<number> {
  if (!rows.length) return 0;
  const enc = rows.map((r) => encodePayload(r.payload));
  await q.query(
    `INSERT INTO quarantine (agent_id, stream, incarnation, seq, code, message, payload, body, bytes, truncated)
     SELECT a, s, i, q, c, m, p::jsonb, b, length(b), t
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::bool[])
       AS x(a, s, i, q, c, m, p, b, t)`,
    [
      rows.map((r) => r.agentId),
      rows.map((r) => r.stream),
      rows.map((r) => r.incarnation ?? null),
      rows.map((r) => r.seq ?? null),
      rows.map((r) => r.code),
      rows.map((r) => r.message.slice(0, 4000)),
      enc.map((e) => e.json),
      enc.map((e) => e.body),
      enc.map((e) => e.truncated),
    ],
  );
  return enc.reduce((n, e) => n + e.body.length, 0);
}

/**
 * The byte bound: while the quarantine holds more than `maxBytes`, the oldest rows are deleted first
 * (the newest dead letters explain the current fault). Returns the rows evicted.
 */
export async function enforceQuarantineBytes(q: Queryable, maxBytes: number): Promise<number> {
  const r = await q.query(
    `DELETE FROM quarantine WHERE id IN (
       SELECT id FROM (
         SELECT id, sum(bytes + 200) OVER (ORDER BY id DESC) AS newer_bytes FROM quarantine
       ) x WHERE newer_bytes > $1)`,
    [maxBytes],
  );
  return r.rowCount;
}

export interface QuarantineEntry {
  id: number;
  received_at: string;
  agent_id: string | null;
  stream: string | null;
  incarnation: string | null;
  seq: number | null;
  code: string;
  message: string;
  bytes: number;
  truncated: boolean;
  replayed_at: string | null;
}

export interface QuarantineFilter {
  code?: string;
  agentId?: string;
  ids?: number[];
  /** only rows not replayed yet */
  pending?: boolean;
  limit?: number;
}

const where = (f: QuarantineFilter) => ({
  sql: `WHERE ($1::text IS NULL OR code = $1) AND ($2::text IS NULL OR agent_id = $2)
          AND ($3::bigint[] IS NULL OR id = ANY($3)) AND (NOT $4 OR replayed_at IS NULL)`,
  params: [f.code ?? null, f.agentId ?? null, f.ids ?? null, f.pending ?? false],
});

export async function listQuarantine(q: Queryable, f: QuarantineFilter = {}): Promise<QuarantineEntry[]> {
  const w = where(f);
  const r = await q.query<QuarantineEntry & { id: string; seq: string | null; received_at: Date }>(
    `SELECT id, received_at, agent_id, stream, incarnation, seq, code, message, bytes, truncated, replayed_at
     FROM quarantine ${w.sql} ORDER BY id LIMIT $5`,
    [...w.params, f.limit ?? 1000],
  );
  return r.rows.map((x) => ({
    ...x,
    id: Number(x.id),
    seq: x.seq === null ? null : Number(x.seq),
    received_at: new Date(x.received_at).toISOString(),
    replayed_at: x.replayed_at ? new Date(x.replayed_at).toISOString() : null,
  }));
}

/** Rows with their payload bytes (export, replay). */
export async function quarantinePayloads(
  q: Queryable,
  f: QuarantineFilter = {},
): Promise<Array<QuarantineEntry & { body: Buffer }>> {
  const list = await listQuarantine(q, f);
  if (!list.length) return [];
  const r = await q.query<{ id: string; body: Buffer | Uint8Array | null }>(
    'SELECT id, body FROM quarantine WHERE id = ANY($1::bigint[])',
    [list.map((x) => x.id)],
  );
  const bodies = new Map(r.rows.map((x) => [Number(x.id), Buffer.from(x.body ?? new Uint8Array())]));
  return list.map((x) => ({ ...x, body: bodies.get(x.id) ?? Buffer.alloc(0) }));
}

export async function markReplayed(q: Queryable, ids: number[]): Promise<void> {
  if (ids.length)
    await q.query('UPDATE quarantine SET replayed_at = now() WHERE id = ANY($1::bigint[])', [ids]);
}
