import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.js';
import type { LiveBus } from './bus.js';

/** TTLs of the seed: live state 5 s, predictions and reroutes 30 s (incidents like reroutes). */
export const CACHE_TTL_S = { live: 5, predictions: 30, reroutes: 30, incidents: 30 } as const;
export type CacheNs = keyof typeof CACHE_TTL_S;
export const CACHE_NAMESPACES = Object.keys(CACHE_TTL_S) as CacheNs[];

interface Entry {
  exp: number;
  v: string;
}

/**
 * Response cache in two levels: in-process (every replica, no round trip) and, with REDIS_URL, Redis
 * shared by the replicas (one hash per namespace, each field with its own expiry, so invalidation is one
 * DEL). Invalidation on new data clears both and is broadcast on the bus so other replicas clear their
 * in-process level too (a lost broadcast costs at most one TTL of staleness). Any Redis failure is a
 * miss: the API keeps answering from the database when Redis is down.
 */
export class ResponseCache {
  private redis: Redis | null = null;
  private readonly local = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<string>>();
  /** bumped by every invalidation: a load that started before one must not store its (stale) result */
  private readonly generation = new Map<CacheNs, number>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly enabled: boolean,
    private readonly redisUrl: string | undefined,
    private readonly prefix: string,
    private readonly bus: LiveBus,
    private readonly metrics: HubMetrics,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (!this.enabled) return;
    this.unsubscribe = this.bus.subscribe((m) => {
      if (m.type === 'cache-invalidate') this.clearLocal(m.data.ns as CacheNs);
    });
    if (!this.redisUrl) return;
    this.redis = new Redis(this.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
    });
    this.redis.on('error', (e) => this.log.warn({ err: e.message }, 'redis cache error'));
  }

  async get(ns: CacheNs, key: string): Promise<string | null> {
    if (!this.enabled) return null;
    const now = Date.now();
    let hit = this.local.get(`${ns}:${key}`);
    if (!(hit && hit.exp > now) && this.redis?.status === 'ready') {
      try {
        const raw = await this.redis.hget(this.hashKey(ns), key);
        hit = raw ? (JSON.parse(raw) as Entry) : undefined;
        if (hit && hit.exp > now) this.local.set(`${ns}:${key}`, hit);
      } catch {
        hit = undefined;
      }
    }
    const ok = hit !== undefined && hit.exp > now;
    this.metrics.cache.inc({ result: ok ? 'hit' : 'miss' });
    return ok ? hit!.v : null;
  }

  /** `<CITYFLOW_REDIS_PREFIX>cache:<ns>` */
  hashKey(ns: CacheNs): string {
    return `${this.prefix}cache:${ns}`;
  }

  private gen(ns: CacheNs): number {
    return this.generation.get(ns) ?? 0;
  }

  /** Stores `value`, unless `gen` is given and the namespace was invalidated since it was read. */
  async set(ns: CacheNs, key: string, value: string, gen?: number): Promise<void> {
    if (!this.enabled || (gen !== undefined && gen !== this.gen(ns))) return;
    const entry: Entry = { exp: Date.now() + CACHE_TTL_S[ns] * 1000, v: value };
    if (this.local.size > 10_000) this.local.clear();
    this.local.set(`${ns}:${key}`, entry);
    if (this.redis?.status === 'ready') {
      const h = this.hashKey(ns);
      await this.redis
        .multi()
        .hset(h, key, JSON.stringify(entry))
        .expire(h, CACHE_TTL_S[ns] * 2)
        .exec()
        .catch(() => undefined);
    }
  }

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
    const gen = this.gen(ns);
    const p = load().then(async (v) => {
      await this.set(ns, key, v, gen);
      return v;
    });
    this.loading.set(k, p);
    try {
      return await p;
    } finally {
      if (this.loading.get(k) === p) this.loading.delete(k);
    }
  }

  /** Drops a namespace everywhere (called when new data makes its answers stale). */
  async invalidate(ns: CacheNs): Promise<void> {
    if (!this.enabled) return;
    this.clearLocal(ns);
    if (this.redis) {
      this.bus.publish({ type: 'cache-invalidate', data: { ns } });
      if (this.redis.status === 'ready') await this.redis.del(this.hashKey(ns)).catch(() => undefined);
    }
  }

  private clearLocal(ns: CacheNs) {
    this.generation.set(ns, this.gen(ns) + 1);
    // A load in flight started before this invalidation: later callers must not join it.
    for (const k of this.loading.keys()) if (k.startsWith(`${ns}:`)) this.loading.delete(k);
    for (const k of this.local.keys()) if (k.startsWith(`${ns}:`)) this.local.delete(k);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.redis?.disconnect();
    this.redis = null;
    this.local.clear();
  }
}
