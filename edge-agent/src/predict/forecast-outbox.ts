import type { MetaStore } from '../storage/meta-store.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import type { LocalForecaster } from './local-forecaster.js';

/**
 * Runs one forecast cycle and queues its records for the hub in one transaction (a crash keeps all of
 * a cycle or none of it). Returns how many were queued.
 */
export function queueForecasts(
  forecaster: LocalForecaster,
  meta: MetaStore,
  outbox: OutboxStore,
  nowMs: number,
): number {
  const recs = forecaster.cycle(nowMs);
  if (recs.length)
    meta.transaction(() => {
      for (const f of recs) outbox.append('forecast', f, Date.now());
    });
  return recs.length;
}
