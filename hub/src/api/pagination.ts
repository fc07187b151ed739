import { ID_PATTERN, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, type Page } from '@cityflow/protocol';
import { RFC3339_PATTERN } from '@cityflow/protocol';
import { ApiError } from './errors.js';

/** Decoded `before`: a position (ts, tie-break key) or, for an RFC 3339 time, ts alone (key null). */
export interface PageCursor {
  ts: string;
  key: string | null;
}

/**
 * What a list's tie-break key is: an id of the network or an agent (`id`), or a bigint row id
 * (`serial`). A cursor is client input: its key goes to SQL, so it must fit its column's type, or
 * PostgreSQL's cast error would surface as a 500.
 */
export type CursorKey = 'id' | 'serial';

const RFC3339 = new RegExp(RFC3339_PATTERN);
const KEY_PATTERNS: Record<CursorKey, RegExp> = {
  id: new RegExp(ID_PATTERN),
  // int8 holds every 18-digit number
  serial: /^[0-9]{1,18}$/,
};
/** Times PostgreSQL and toISOString both hold; traffic data lives well inside. */
const MIN_MS = Date.UTC(1970, 0, 1);
const MAX_MS = Date.UTC(9999, 11, 31);

export function encodeCursor(ts: string, key: string): string {
  return Buffer.from(JSON.stringify([ts, key])).toString('base64url');
}

/** An RFC 3339 time inside the storable range, normalised; null otherwise. */
function cursorTime(v: unknown): string | null {
  if (typeof v !== 'string' || !RFC3339.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS ? new Date(ms).toISOString() : null;
}

export function decodeCursor(before: string | undefined, keyKind: CursorKey = 'id'): PageCursor | null {
  if (before === undefined || before === '') return null;
  const plain = cursorTime(before);
  if (plain) return { ts: plain, key: null };
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(before, 'base64url').toString('utf8'));
  } catch {
    v = null; // a malformed cursor is the client's error
  }
  if (Array.isArray(v) && v.length === 2 && typeof v[1] === 'string' && KEY_PATTERNS[keyKind].test(v[1])) {
    const ts = cursorTime(v[0]);
    if (ts) return { ts, key: v[1] };
  }
  throw new ApiError(400, 'CF_BAD_REQUEST', 'before: not a cursor from next_cursor nor an RFC 3339 time');
}

export function clampLimit(limit: number | undefined): number {
  return Math.min(PAGE_LIMIT_MAX, Math.max(1, limit ?? PAGE_LIMIT_DEFAULT));
}

/** Rows were fetched with limit+1 to learn whether more follow without a count query. */
export function toPage<T>(
  rows: T[],
  limit: number,
  cursorOf: (row: T) => [string, string],
  strip?: (row: T) => unknown,
): Page<unknown> {
  const has_more = rows.length > limit;
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return {
    data: strip ? data.map(strip) : data,
    next_cursor: has_more && last ? encodeCursor(...cursorOf(last)) : null,
    has_more,
  };
}
