import type { HubClock } from '../clock.js';

/** `wall` mode: items stamped further ahead of the hub's wall clock are refused (CF_TS_FUTURE). */
export const FUTURE_TOLERANCE_S = 300;
/**
 * `data` mode: items stamped further ahead of the data clock are refused. Six hours covers a replay
 * gap (a night without data) while a forged 2099 item stays out; a longer jump in a replay is
 * quarantined and can be replayed (`cityflow-hub quarantine replay`).
 */
export const DATA_CLOCK_MARGIN_S = 6 * 3600;
/** A forecast's target lies at most a day after its issue time (the longest horizon). */
export const MAX_FORECAST_AHEAD_S = 24 * 3600;

/** How far ahead of "now" (the active clock) a data timestamp may be. */
export function futureLimitS(clock: HubClock): number {
  return clock.mode === 'wall' ? FUTURE_TOLERANCE_S : DATA_CLOCK_MARGIN_S;
}

/** An error text for a timestamp that is not real or too far ahead; null when it is inside the bounds. */
export function checkTime(clock: HubClock, field: string, iso: string): string | null {
  return checkAhead(field, iso, clock.now(), futureLimitS(clock), `${clock.mode} clock`);
}

/**
 * An error text for a wall-clock stamp (a summary's `closed_at`, on both clocks) that is not real or
 * lies more than FUTURE_TOLERANCE_S ahead of the hub's wall clock; null when it is inside the bounds.
 */
export function checkWallTime(clock: HubClock, field: string, iso: string): string | null {
  return checkAhead(field, iso, clock.wall(), FUTURE_TOLERANCE_S, 'wall clock');
}

/** The one rule both use: a real time, at most `limitS` ahead of `nowMs`. */
function checkAhead(field: string, iso: string, nowMs: number, limitS: number, what: string): string | null {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return `${field}: ${iso} is not a real time`;
  const ahead = (t - nowMs) / 1000;
  if (ahead > limitS)
    return `${field}: ${iso} is ${Math.round(ahead)} s ahead of the hub's ${what} (limit ${limitS} s)`;
  return null;
}

/**
 * Feeds the data clock from accepted items so that one forged item cannot move it: the clock follows
 * the second-newest accepted time, not the newest (every accepted time is already bounded above).
 */
export class DataClockFeed {
  private top1 = Number.NEGATIVE_INFINITY;
  private top2 = Number.NEGATIVE_INFINITY;
  constructor(private readonly clock: HubClock) {}

  observe(tsMs: number): void {
    if (!Number.isFinite(tsMs)) return;
    if (tsMs > this.top1) {
      this.top2 = this.top1;
      this.top1 = tsMs;
    } else if (tsMs > this.top2) this.top2 = tsMs;
    if (Number.isFinite(this.top2)) this.clock.observe(this.top2);
  }
}
