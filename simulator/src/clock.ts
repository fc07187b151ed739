import { CityFlowError } from '@cityflow/protocol';

export type ClockMode = 'wall' | 'data';

/**
 * Simulated time. In `wall` mode readings carry the real time (agents reject readings from the
 * future, so no speed-up). In `data` mode simulated time starts at `startMs` and runs `speedup`
 * times faster than the wall clock; every CityFlow process on the data clock follows the reading
 * timestamps, so a day can pass in minutes.
 */
export class SimClock {
  private wallStart = 0;

  constructor(
    readonly mode: ClockMode,
    private readonly startMs: number | undefined,
    readonly speedup: number,
    private readonly wallNow: () => number = Date.now,
  ) {
    if (!(speedup > 0))
      throw new CityFlowError('CF_INVALID_CONFIG', `--speedup: must be > 0, got ${speedup}`);
    if (mode === 'wall' && (speedup !== 1 || startMs !== undefined))
      throw new CityFlowError(
        'CF_INVALID_CONFIG',
        '--speedup/--start need --clock data: on the wall clock readings must carry the real time',
      );
    this.wallStart = wallNow();
  }

  /** Restart the mapping (simulated start = now on the wall clock). */
  reset(): void {
    this.wallStart = this.wallNow();
  }

  now(): number {
    const elapsed = this.wallNow() - this.wallStart;
    return (this.startMs ?? this.wallStart) + elapsed * this.speedup;
  }
}
