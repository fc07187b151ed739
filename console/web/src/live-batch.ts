import type { LiveTraffic, Prediction } from '@cityflow/protocol';
import type { Store } from './store.js';

/**
 * Live traffic and prediction frames are applied to the store in batches this often: 5,000 roads a
 * second, one store update (and one repaint) per frame would spend the main thread on bookkeeping.
 */
export const LIVE_BATCH_MS = 250;
/**
 * The longest frames are held for a map that does not say it is complete (no WebGL, a tile that never
 * loads): the lists and the road panel must not wait for the map forever.
 */
export const LIVE_HOLD_MAX_MS = 10_000;

/**
 * The live frames between the socket and the store: the newest per road (and per road and horizon for
 * forecasts), applied every LIVE_BATCH_MS. Until `release()` (the map is complete) nothing is applied:
 * applying frames while the map tiles its roads costs repaints and main-thread time the first draw
 * needs, and keeping only the newest state per road loses nothing the store would keep (it keeps the
 * newest too), so the map's first live paint shows the current state, not an older one.
 */
export class LiveBatch {
  private traffic = new Map<string, LiveTraffic>();
  private predictions = new Map<string, Prediction>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  private held = true;

  constructor(private readonly store: Store) {}

  /** The hold starts now and ends at `release()` or after LIVE_HOLD_MAX_MS, whichever is first. */
  start(): void {
    this.holdTimer = setTimeout(() => this.release(), LIVE_HOLD_MAX_MS);
  }

  addTraffic(t: LiveTraffic): void {
    const prev = this.traffic.get(t.road_id);
    if (!prev || !(Date.parse(prev.ts) > Date.parse(t.ts))) this.traffic.set(t.road_id, t);
    this.schedule();
  }

  addPrediction(p: Prediction): void {
    const key = `${p.road_id}\u0000${p.horizon_min}`;
    const prev = this.predictions.get(key);
    if (!prev || !(Date.parse(prev.ts) > Date.parse(p.ts))) this.predictions.set(key, p);
    this.schedule();
  }

  /** Idempotent: the map calls it each time it completes a network. */
  release(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (!this.held) return;
    this.held = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.held || this.timer || (!this.traffic.size && !this.predictions.size)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const traffic = [...this.traffic.values()];
      const predictions = [...this.predictions.values()];
      this.traffic.clear();
      this.predictions.clear();
      if (traffic.length) this.store.setLive(traffic, true);
      if (predictions.length) this.store.setPredictions(predictions);
    }, LIVE_BATCH_MS);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.timer = null;
    this.holdTimer = null;
    this.traffic.clear();
    this.predictions.clear();
  }
}
