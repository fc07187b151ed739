import type { ClockMode } from './config.js';

/**
 * The hub's notion of "now". `wall` is the system clock; `data` follows the newest data timestamp seen
 * (summaries, live snapshots), so replays faster than real time drive cycles and freshness. Before any
 * data arrives the data clock reads the wall clock.
 */
export class HubClock {
  private latestDataMs = 0;
  /** `wallNow` is the system clock unless a test injects one (a clock jump) */
  constructor(
    readonly mode: ClockMode,
    private readonly wallNow: () => number = Date.now,
  ) {}

  observe(tsMs: number): void {
    if (Number.isFinite(tsMs) && tsMs > this.latestDataMs) this.latestDataMs = tsMs;
  }

  now(): number {
    if (this.mode === 'wall') return this.wallNow();
    return this.latestDataMs || this.wallNow();
  }

  /** The system clock in both modes (for wall stamps such as a summary's `closed_at`). */
  wall(): number {
    return this.wallNow();
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }
}
