import type { LiveRoad } from '@cityflow/protocol';
import type { ResponseCache } from '../live/cache.js';
import type { LiveBus } from '../live/bus.js';
import type { HubMetrics } from '../metrics.js';
import type { DataClockFeed } from './time-bounds.js';

/**
 * Stage 8: what follows a stored message — the data clock, the lag metric, cache invalidation and the
 * live bus (WebSocket clients on every replica). Only accepted items get here.
 */
export class Publisher {
  constructor(
    private readonly d: { feed: DataClockFeed; metrics: HubMetrics; bus: LiveBus; cache: ResponseCache },
  ) {}

  async summaries(minutes: string[], storedAtMs: number, stored: boolean): Promise<void> {
    for (const m of minutes) {
      const end = Date.parse(m) + 60_000;
      this.d.feed.observe(end);
      if (stored)
        this.d.metrics.ingestLag.observe({ stream: 'summary' }, Math.max(0, (storedAtMs - end) / 1000));
    }
  }

  async forecasts(stored: number): Promise<void> {
    if (stored) await this.d.cache.invalidate('predictions');
  }

  async live(snapshotTs: string, roads: LiveRoad[]): Promise<void> {
    for (const x of roads) this.d.feed.observe(Date.parse(x.ts));
    this.d.metrics.ingestLag.observe(
      { stream: 'live' },
      Math.max(0, (Date.now() - Date.parse(snapshotTs)) / 1000),
    );
    await this.d.cache.invalidate('live');
    for (const x of roads) {
      const { samples: _s, by_sensor: _b, ...data } = x;
      this.d.bus.publish({ type: 'traffic', data });
    }
  }
}
