import type { Redis } from 'ioredis';

type Incr = (err: Error | null, res: { current: number; ttl: number }) => void;

/** Fixed window counter: one atomic INCR, the window's expiry set by its first hit. */
const WINDOW_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

/** In-process windows, bounded: the oldest keys go first when full. */
class LocalWindows {
  private readonly m = new Map<string, { n: number; endMs: number }>();
  constructor(private readonly maxKeys = 10_000) {}
  incr(key: string, windowMs: number): { current: number; ttl: number } {
    const now = Date.now();
    let w = this.m.get(key);
    if (!w || w.endMs <= now) {
      this.m.delete(key);
      if (this.m.size >= this.maxKeys) this.m.delete(this.m.keys().next().value as string);
      w = { n: 0, endMs: now + windowMs };
      this.m.set(key, w);
    }
    w.n++;
    return { current: w.n, ttl: w.endMs - now };
  }
}

/**
 * A store for @fastify/rate-limit: counts in Redis (shared by every replica) and, whenever Redis does
 * not answer, in this process instead. The plugin's own Redis store with `skipOnError` lets every
 * request through while Redis is down, which turns the login, spraying, registration and diagnostics
 * limits off exactly when an attacker may have caused the outage; per-replica counting keeps them on
 * (each replica allows `max`, so N replicas allow at most N × max).
 */
export function redisWithLocalFallbackStore(redis: Redis, prefix: string) {
  const local = new LocalWindows();
  redis.defineCommand('cityflowWindow', { numberOfKeys: 1, lua: WINDOW_LUA });
  const run = redis as unknown as {
    cityflowWindow(key: string, windowMs: number): Promise<[number, number]>;
  };
  return class RedisWithLocalFallback {
    constructor(
      _params?: unknown,
      readonly keyPrefix = prefix,
    ) {}

    incr(key: string, cb: Incr, timeWindow: number): void {
      const k = this.keyPrefix + key;
      run.cityflowWindow(k, timeWindow).then(
        ([current, ttl]) => cb(null, { current, ttl }),
        () => cb(null, local.incr(k, timeWindow)),
      );
    }

    child(routeOptions: { routeInfo: { method?: string; url?: string } }) {
      const r = routeOptions.routeInfo;
      return new RedisWithLocalFallback(undefined, `${this.keyPrefix}${r.method ?? ''}${r.url ?? ''}-`);
    }
  };
}
