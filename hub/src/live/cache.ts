import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.js';

/** TTLs of the seed: live state 5 s, predictions and reroutes 30 s. */
export const CACHE_TTL_S = { live: 5, predictions: 30, reroutes: 30 } as const;
export type CacheNs = keyof typeof CACHE_TTL_S;

/**
 * Response cache: Redis when REDIS_URL (shared by replicas), in-process otherwise. One Redis hash per
 * namespace, each field carrying its own expiry, so invalidation on new data is one DEL. Any Redis
 * failure is a miss: the API keeps answering from the database when Redis is down.
 */
export class ResponseCache {
  private redis: Redis | null = null;
  private readonly local = new Map<string, { exp: number; v: string }>();

  constructor(
    private readonly enabled: boolean,
    private readonly redisUrl: string | undefined,
    private readonly metrics: HubMetrics,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (!this.enabled || !this.redisUrl) return;
    this.redis = new Redis(this.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
    });
    this.redis.on('error', (e) => this.log.warn({ err: e.message }, 'redis cache error'));
    await this.redis
      .connect()
      .catch((e) => this.log.warn({ err: (e as Error).message }, 'redis cache unavailable'));
  }

  async get(ns: CacheNs, key: string): Promise<string | null> {
    if (!this.enabled) return null;
    const now = Date.now();
    let hit: { exp: number; v: string } | undefined;
    if (this.redis && this.redis.status !== 'ready') hit = undefined;
    else if (this.redis) {
      try {
        const raw = await this.redis.hget(`cityflow:cache:${ns}`, key);
        hit = raw ? (JSON.parse(raw) as { exp: number; v: string }) : undefined;
      } catch {
        hit = undefined;
      }
    } else hit = this.local.get(`${ns}:${key}`);
    const ok = hit !== undefined && hit.exp > now;
    this.metrics.cache.inc({ result: ok ? 'hit' : 'miss' });
    return ok ? hit!.v : null;
  }

  async set(ns: CacheNs, key: string, value: string): Promise<void> {
    if (!this.enabled) return;
    const entry = { exp: Date.now() + CACHE_TTL_S[ns] * 1000, v: value };
    if (this.redis) {
      const h = `cityflow:cache:${ns}`;
      await this.redis
        .multi()
        .hset(h, key, JSON.stringify(entry))
        .expire(h, CACHE_TTL_S[ns] * 2)
        .exec()
        .catch(() => undefined);
    } else {
      if (this.local.size > 10_000) this.local.clear();
      this.local.set(`${ns}:${key}`, entry);
    }
  }

  private readonly loading = new Map<string, Promise<string>>();

  /**
   * The cached answer, or `load()` once for all concurrent misses of the same key (single flight): when
   * an entry expires under 2,000 req/s, one query refills it instead of a burst of identical ones.
   */
  async getOrLoad(ns: CacheNs, key: string, load: () => Promise<string>): Promise<string> {
    if (!this.enabled) return load();
    const hit = await this.get(ns, key);
    if (hit !== null) return hit;
    const k = `${ns}:${key}`;
    const pending = this.loading.get(k);
    if (pending) return pending;
    const p = load().then(async (v) => {
      await this.set(ns, key, v);
      return v;
    });
    this.loading.set(k, p);
    try {
      return await p;
    } finally {
      this.loading.delete(k);
    }
  }

  /** Drops a namespace (called when new data makes its answers stale). */
  async invalidate(ns: CacheNs): Promise<void> {
    if (!this.enabled) return;
    if (this.redis) await this.redis.del(`cityflow:cache:${ns}`).catch(() => undefined);
    else for (const k of this.local.keys()) if (k.startsWith(`${ns}:`)) this.local.delete(k);
  }

  async stop(): Promise<void> {
    this.redis?.disconnect();
    this.redis = null;
    this.local.clear();
  }
}
