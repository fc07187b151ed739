/**
 * The agent's sense of "now". `wall` follows the system clock corrected by the skew measured against
 * the hub; `data` follows the newest reading timestamp seen, so a replay at 100x real time closes
 * minutes, runs forecasts and applies freshness rules at data speed.
 */
export type ClockMode = 'wall' | 'data';

/** A Raspberry Pi without RTC boots at its last saved time or 1970; anything before this is not real. */
export const PLAUSIBLE_EPOCH_MS = Date.UTC(2025, 0, 1);

export class AgentClock {
  private dataNowMs = 0;
  private acceptedMs = 0;
  private readonly ahead = new Set<string>();
  private skewMs: number | null = null;
  private skewAtMs = 0;

  constructor(
    readonly mode: ClockMode,
    private readonly wallNow: () => number = Date.now,
  ) {}

  /** Current time by this clock's rule; in data mode 0 until the first reading arrives. */
  now(): number {
    return this.mode === 'data' ? this.dataNowMs : this.correctedWall();
  }

  /** System time minus the measured skew (the hub's clock is the reference once we have heard it). */
  correctedWall(): number {
    const t = this.wallNow();
    return this.skewMs === null ? t : t - this.skewMs;
  }

  /** Feed a reading/summary timestamp (data mode advances; time never goes back). */
  observeData(tsMs: number): void {
    if (tsMs > this.dataNowMs) this.dataNowMs = tsMs;
  }

  /**
   * A reading passed the checks and is queued for the commit. The data clock itself moves only after
   * the commit, but the future rule must judge a fast replay against the readings just before it
   * (many arrive between two commits), so it uses the newest accepted timestamp as well.
   */
  noteAccepted(tsMs: number): void {
    if (tsMs > this.acceptedMs) this.acceptedMs = tsMs;
    this.ahead.clear();
  }

  /** A reading beyond the future limit: how many distinct sensors were ahead since the last accepted one. */
  noteAhead(sensorId: string): number {
    this.ahead.add(sensorId);
    return this.ahead.size;
  }

  /** The reference of the future rule: `now()`, or in data mode the newest accepted reading (0 = none yet). */
  futureRef(): number {
    return this.mode === 'data' ? Math.max(this.dataNowMs, this.acceptedMs) : this.correctedWall();
  }

  /** Hub time from an ack: skew = agent clock − hub clock (network delay is ignored: seconds matter, not ms). */
  observeHubTime(hubMs: number): void {
    if (!Number.isFinite(hubMs)) return;
    this.skewMs = this.wallNow() - hubMs;
    this.skewAtMs = this.wallNow();
  }

  /** Synced = we heard the hub's time in the last hour, or the system clock is at least plausible. */
  state(): { mode: ClockMode; synced: boolean; skew_s: number | null } {
    const heardHub = this.skewMs !== null && this.wallNow() - this.skewAtMs < 3_600_000;
    return {
      mode: this.mode,
      synced: heardHub,
      skew_s: this.skewMs === null ? null : Math.round(this.skewMs / 100) / 10,
    };
  }

  /**
   * `correctedWall()`, or null while it cannot be believed: the system clock is obviously unset (before
   * the release epoch) and no hub time corrects it. Wall stamps of delays (a summary's `closed_at`) use
   * this in both modes.
   */
  trustedWall(): number | null {
    return this.skewMs === null && this.wallNow() < PLAUSIBLE_EPOCH_MS ? null : this.correctedWall();
  }

  /** In wall mode, "now" itself cannot be believed (see `trustedWall`). */
  untrusted(): boolean {
    return this.mode === 'wall' && this.trustedWall() === null;
  }
}
