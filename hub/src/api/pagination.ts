import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, type Page } from '@cityflow/protocol';
import { RFC3339_PATTERN } from '@cityflow/protocol';
import { ApiError } from './errors.js';

/** Decoded `before`: a position (ts, tie-break key) or, for an RFC 3339 time, ts alone (key null). */
export interface PageCursor {
  ts: string;
  key: string | null;
}

const RFC3339 = new RegExp(RFC3339_PATTERN);

export function encodeCursor(ts: string, key: string): string {
  return Buffer.from(JSON.stringify([ts, key])).toString('base64url');
}

export function decodeCursor(before: string | undefined): PageCursor | null {
  if (before === undefined || before === '') return null;
  if (RFC3339.test(before) && Number.isFinite(Date.parse(before)))
    return { ts: new Date(before).toISOString(), key: null };
  try {
    const v = JSON.parse(Buffer.from(before, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      Number.isFinite(Date.parse(v[0]))
    )
      return { ts: v[0], key: v[1] };
  } catch {
    // fall through: a malformed cursor is the client's error
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
