import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LiveBus } from '../src/live/bus.js';
import { ResponseCache } from '../src/live/cache.js';
import { createMetrics } from '../src/metrics.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('response cache (in-process level)', () => {
  it('a load started before an invalidation does not store its stale result', async () => {
    const log = pino({ level: 'silent' });
    const cache = new ResponseCache(
      true,
      undefined,
      'cityflow:',
      new LiveBus(undefined, log),
      createMetrics(),
      log,
    );
    await cache.start();
    const slow = deferred<string>();
    const started = deferred<void>();
    const first = cache.getOrLoad('live', 'k', () => {
      started.resolve();
      return slow.promise;
    });
    await started.promise; // the query runs...
    await cache.invalidate('live'); // ...when new data arrives
    // a request after the invalidation does not join the stale load: it loads afresh
    expect(await cache.getOrLoad('live', 'k', async () => 'fresh')).toBe('fresh');
    slow.resolve('stale');
    expect(await first).toBe('stale'); // its own caller still gets an answer
    expect(await cache.get('live', 'k')).toBe('fresh'); // but the cache keeps the fresh one
    await cache.invalidate('live');
    const slow2 = deferred<string>();
    const started2 = deferred<void>();
    const p = cache.getOrLoad('live', 'k', () => {
      started2.resolve();
      return slow2.promise;
    });
    await started2.promise;
    await cache.invalidate('live');
    slow2.resolve('stale-2');
    await p;
    expect(await cache.get('live', 'k')).toBeNull();
    await cache.stop();
  });
});
