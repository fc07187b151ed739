import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import type { HubMetrics } from '../metrics.js';
import { enforceQuarantineBytes, insertQuarantine } from '../store/quarantine-store.js';
import type { Refusal } from './refusal.js';
import type { Route } from './route.js';

/**
 * Dead letters of whole messages (item rejections go in the store's transaction). Every write is
 * awaited and counted; a failed write is counted and logged, and the message stays unacked. The
 * quarantine is bounded in bytes: past the bound the oldest rows are deleted first (counted).
 */
export class Quarantine {
  private sinceEnforce = 0;

  constructor(private readonly d: { db: Db; metrics: HubMetrics; log: Logger; maxBytes: number }) {}

  async refuse(r: Route, refusal: Refusal, incarnation?: string): Promise<void> {
    this.d.metrics.invalid.inc({ code: refusal.code });
    this.d.log.warn(
      { agent_id: r.agentId, stream: r.stream, code: refusal.code, errors: refusal.errors.slice(0, 5) },
      'uplink message refused',
    );
    try {
      const bytes = await insertQuarantine(this.d.db, [
        {
          agentId: r.agentId,
          stream: r.stream,
          incarnation: incarnation ?? null,
          code: refusal.code,
          message: refusal.errors.slice(0, 20).join('; '),
          payload: refusal.payload,
        },
      ]);
      this.counted(refusal.code, bytes);
    } catch (e) {
      this.d.metrics.quarantineFailed.inc();
      this.d.log.error(
        { agent_id: r.agentId, err: (e as Error).message, code: 'CF_DB_ERROR' },
        'quarantine write failed',
      );
    }
  }

  /** Counts dead letters written (by the store's transaction or here) and keeps the byte bound. */
  counted(code: string, bytes: number, n = 1): void {
    this.d.metrics.quarantined.inc({ code }, n);
    this.sinceEnforce += bytes;
    if (this.sinceEnforce > this.d.maxBytes / 16) {
      this.sinceEnforce = 0;
      void this.enforce();
    }
  }

  async enforce(): Promise<number> {
    try {
      const n = await enforceQuarantineBytes(this.d.db, this.d.maxBytes);
      if (n) {
        this.d.metrics.quarantineEvicted.inc(n);
        this.d.log.warn(
          { evicted: n, max_bytes: this.d.maxBytes },
          'quarantine over its byte bound: oldest rows deleted',
        );
      }
      return n;
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, 'quarantine bound not enforced');
      return 0;
    }
  }
}
