import type { ErrorCode, ForecastRecord, SummaryRecord } from '@cityflow/protocol';
import { ForecastRecordSchema, SummaryRecordSchema, compileValidator } from '@cityflow/protocol';
import type { HubClock } from '../clock.js';
import type { Authorizer } from './authorize.js';
import type { StreamItems } from './envelope.js';
import type { Rejection } from './refusal.js';
import { MAX_FORECAST_AHEAD_S, checkTime, checkWallTime } from './time-bounds.js';

/** One item of a sequenced batch after its single check: `value` is set when it is accepted. */
export interface Checked<T> {
  seq: number;
  raw: unknown;
  value: T | null;
  rejection: Rejection | null;
}

/** An item without a usable seq cannot be acked: it is only quarantined. */
export interface Unackable {
  index: number;
  errors: string[];
  raw: unknown;
}

const itemValidators = {
  summary: compileValidator(SummaryRecordSchema),
  forecast: compileValidator(ForecastRecordSchema),
};

/** Business rules on a schema-valid item beyond ownership: real, bounded, aligned times. */
const timeRules = {
  summary(clock: HubClock, it: SummaryRecord): string[] {
    const t = Date.parse(it.minute);
    const bad = checkTime(clock, 'minute', it.minute);
    if (bad) return [bad];
    const errors: string[] = [];
    // Two summaries of one minute must land on one row; 08:00:30 would make a second one.
    if (t % 60_000 !== 0) errors.push(`minute: ${it.minute} is not the start of a minute`);
    if (it.null_speed_count > it.count) errors.push('null_speed_count: exceeds count');
    const closed = it.closed_at === undefined ? null : checkWallTime(clock, 'closed_at', it.closed_at);
    if (closed) errors.push(closed);
    return errors;
  },
  forecast(clock: HubClock, it: ForecastRecord): string[] {
    const bad = checkTime(clock, 'ts', it.ts);
    if (bad) return [bad];
    const ahead = (Date.parse(it.target_ts) - Date.parse(it.ts)) / 1000;
    if (!Number.isFinite(ahead)) return [`target_ts: ${it.target_ts} is not a real time`];
    if (ahead < 0 || ahead > MAX_FORECAST_AHEAD_S)
      return [`target_ts: ${it.target_ts} is not within a day after ts ${it.ts}`];
    return [];
  },
} as const;

const usableSeq = (raw: unknown): number | null => {
  const seq = (raw as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1 ? seq : null;
};

/**
 * Stage 5: every item of a batch checked once — schema, ownership (stage 4), time bounds and minute
 * alignment — into an accepted value or a rejection keyed by its seq. A duplicate seq in one batch
 * keeps its first item.
 */
export function checkItems<S extends keyof StreamItems>(
  stream: S,
  agentId: string,
  items: unknown[],
  deps: { clock: HubClock; authorizer: Authorizer },
): { checked: Array<Checked<StreamItems[S]>>; unackable: Unackable[] } {
  const validate = itemValidators[stream] as (v: unknown) => ReturnType<(typeof itemValidators)[S]>;
  const rules = timeRules[stream] as (c: HubClock, it: StreamItems[S]) => string[];
  const checked: Array<Checked<StreamItems[S]>> = [];
  const unackable: Unackable[] = [];
  const seen = new Set<number>();
  for (const [i, raw] of items.entries()) {
    const r = validate(raw);
    const seq = r.ok ? r.value.seq : usableSeq(raw);
    const errors = r.ok ? [] : r.errors.map((e) => `items.${i}.${e}`);
    if (seq === null || seen.has(seq)) {
      unackable.push({ index: i, errors: errors.length ? errors : [`items.${i}.seq: repeated`], raw });
      continue;
    }
    seen.add(seq);
    const reject = (code: ErrorCode, errs: string[]): Checked<StreamItems[S]> => ({
      seq,
      raw,
      value: null,
      rejection: { seq, code, message: errs.slice(0, 5).join('; ') },
    });
    if (!r.ok) {
      checked.push(reject('CF_INVALID_MESSAGE', errors));
      continue;
    }
    const it = r.value as StreamItems[S];
    const owned = deps.authorizer.item(agentId, seq, it);
    if (owned) {
      checked.push({ seq, raw, value: null, rejection: owned });
      continue;
    }
    const timeErrors = rules(deps.clock, it).map((e) => `items.${i}.${e}`);
    if (timeErrors.length) {
      const future = timeErrors.some((e) => e.includes('ahead of the hub'));
      checked.push(reject(future ? 'CF_TS_FUTURE' : 'CF_INVALID_MESSAGE', timeErrors));
      continue;
    }
    checked.push({ seq, raw, value: it, rejection: null });
  }
  return { checked, unackable };
}
