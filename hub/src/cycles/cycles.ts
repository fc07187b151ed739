import { type Advice, type Network, type Prediction, type Reroute, topics } from '@cityflow/protocol';
import type { Logger } from 'pino';
import type { HubClock } from '../clock.js';
import type { HubConfig } from '../config.js';
import type { Db } from '../db/db.js';
import { runRetention } from '../db/storage-policy.js';
import type { LiveBus } from '../live/bus.js';
import type { ResponseCache } from '../live/cache.js';
import type { HubMetrics } from '../metrics.js';
import { allLive, insertReroutes, listPredictions } from '../store/traffic.js';
import { PredictionCycle } from './prediction-cycle.js';
import { type RoadState, ReroutePlanner } from './reroute-planner.js';

export interface CycleDeps {
  db: Db;
  net: Network;
  clock: HubClock;
  metrics: HubMetrics;
  bus: LiveBus;
  cache: ResponseCache;
  config: HubConfig;
  log: Logger;
  publish(topic: string, payload: unknown, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
}

/**
 * Advisory lock key of the singleton cycle (one replica at a time runs predictions and reroutes).
 * Advisory locks are server-wide: the key mixes in the database and schema so two cities (or two test
 * runs) on one PostgreSQL server never block each other.
 */
export const CYCLE_LOCK_BASE = 'cityflow-cycle';
const RETENTION_EVERY_MS = 3600_000;

/**
 * The prediction + reroute cycle, every `cycleIntervalS` of the active clock (in `data` mode the wall
 * timer only polls the data clock). Only the replica holding the PostgreSQL advisory lock runs it; the
 * lock lives on a dedicated connection, so when that replica dies the next one takes over.
 */
export class Cycles {
  private timer: NodeJS.Timeout | null = null;
  private lock: { release(): Promise<void> } | null = null;
  private lockKey: number | null = null;
  private nextDueMs = 0;
  private running = false;
  private lastRetentionMs = 0;
  private readonly planner: ReroutePlanner;
  private readonly predictor: PredictionCycle;
  private readonly adviceByAgent = new Map<string, Advice>();
  /** cycles this process ran (tests and scale-out checks) */
  runs = 0;

  constructor(private readonly d: CycleDeps) {
    this.planner = new ReroutePlanner(d.net);
    this.predictor = new PredictionCycle(d.db, d.net);
  }

  get leader(): boolean {
    return this.lock !== null;
  }

  async start(): Promise<void> {
    const periodMs = this.d.config.cycleIntervalS * 1000;
    this.nextDueMs = Math.floor(this.d.clock.now() / periodMs) * periodMs + periodMs;
    const pollMs = this.d.config.clock === 'data' ? Math.min(1000, periodMs) : periodMs;
    this.timer = setInterval(() => void this.tick(), pollMs);
    this.timer.unref();
  }

  /** Called by the timer; public for tests that drive the timer. */
  async tick(): Promise<void> {
    if (this.running) return;
    const now = this.d.clock.now();
    const periodMs = this.d.config.cycleIntervalS * 1000;
    // The data clock reads the wall clock until data arrives, then jumps (a replay of last spring):
    // a due time more than one period ahead belongs to the old timeline and is re-based.
    if (this.nextDueMs - now > periodMs) this.nextDueMs = Math.floor(now / periodMs) * periodMs + periodMs;
    if (this.d.config.clock === 'data' && now < this.nextDueMs) return;
    this.nextDueMs = Math.floor(now / periodMs) * periodMs + periodMs;
    await this.runOnce(now);
  }

  /** One cycle at `nowMs` if this replica is (or becomes) the leader; false when another replica leads. */
  async runOnce(nowMs: number = this.d.clock.now()): Promise<boolean> {
    if (this.running) return false;
    this.running = true;
    try {
      if (this.lockKey === null) {
        const r = await this.d.db.query<{ k: number }>(
          "SELECT hashtext($1 || '/' || current_database() || '/' || current_schema()) AS k",
          [CYCLE_LOCK_BASE],
        );
        this.lockKey = r.rows[0]!.k;
      }
      if (!this.lock) this.lock = await this.d.db.tryAdvisoryLock(this.lockKey);
      if (!this.lock) return false;
      const predictions = await this.timed('prediction', () => this.predictor.run(nowMs));
      this.afterPredictions(predictions);
      await this.timed('reroute', () => this.reroutes(nowMs));
      if (Date.now() - this.lastRetentionMs > RETENTION_EVERY_MS) {
        this.lastRetentionMs = Date.now();
        await runRetention(this.d.db, this.d.clock.mode).catch((e) =>
          this.d.log.warn({ err: (e as Error).message }, 'retention failed'),
        );
      }
      this.runs++;
      return true;
    } catch (e) {
      this.d.log.error({ err: (e as Error).message, code: 'CF_DB_ERROR' }, 'cycle failed');
      // A broken lock connection means we may no longer lead: let it go and compete again next time.
      const lock = this.lock;
      this.lock = null;
      this.predictor.reset();
      await lock?.release().catch(() => undefined);
      return false;
    } finally {
      this.running = false;
    }
  }

  private async timed<T>(cycle: string, fn: () => Promise<T>): Promise<T> {
    const end = this.d.metrics.cycleDuration.startTimer({ cycle });
    try {
      return await fn();
    } finally {
      end();
    }
  }

  private afterPredictions(predictions: Prediction[]) {
    const t30 = predictions.filter((p) => p.horizon_min === 30);
    if (t30.length)
      this.d.metrics.meanPredictedCongestion.set(
        t30.reduce((s, p) => s + p.congestion_score, 0) / t30.length,
      );
    for (const p of predictions) this.d.bus.publish({ type: 'prediction', data: p });
    if (predictions.length) void this.d.cache.invalidate('predictions');
  }

  /** Road state for the planner: the best T+30 forecast per road, else its live state. */
  private async roadState(): Promise<Map<string, RoadState>> {
    const state = new Map<string, RoadState>();
    const live = await allLive(this.d.db);
    for (const [id, l] of live)
      state.set(id, { speedKmh: l.speed_kmh, score: l.congestion_score, flowVph: l.flow_rate });
    const preds = await listPredictions(this.d.db, { horizon: 30, limit: 100_000, before: null });
    for (const p of preds) {
      const s = state.get(p.road_id);
      state.set(p.road_id, {
        speedKmh: p.speed_kmh ?? s?.speedKmh ?? null,
        score: p.congestion_score,
        flowVph: s?.flowVph ?? null,
      });
    }
    return state;
  }

  private async reroutes(nowMs: number): Promise<Reroute[]> {
    const state = await this.roadState();
    const periodMs = this.d.config.cycleIntervalS * 1000;
    const items = this.planner.plan(state, nowMs, 2 * periodMs + 30_000);
    await insertReroutes(this.d.db, items);
    await this.d.cache.invalidate('reroutes');
    this.d.metrics.co2Gain.set(items.reduce((s, r) => s + r.estimated_co2_gain, 0));
    for (const r of items) this.d.bus.publish({ type: 'reroute', data: r });
    await this.publishAdvice(items, nowMs);
    return items;
  }

  /** Each agent gets, retained, the reroutes that touch its roads (possibly none, which clears old advice). */
  private async publishAdvice(items: Reroute[], nowMs: number) {
    for (const [agentId, slice] of this.d.net.agents) {
      const mine = items.filter(
        (r) => slice.roads.includes(r.route_id) || r.path.some((p) => slice.roads.includes(p)),
      );
      const prev = this.adviceByAgent.get(agentId);
      if (!mine.length && !prev?.items.length) continue;
      const advice: Advice = {
        v: 1,
        agent_id: agentId,
        issued_at: new Date(nowMs).toISOString(),
        items: mine.slice(0, 500),
      };
      this.adviceByAgent.set(agentId, advice);
      await this.d.publish(topics.advice(agentId), advice, { qos: 1, retain: true }).catch(() => undefined);
    }
  }

  async republishAdvice(agentId: string): Promise<void> {
    const a = this.adviceByAgent.get(agentId);
    if (a) await this.d.publish(topics.advice(agentId), a, { qos: 1, retain: true });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const lock = this.lock;
    this.lock = null;
    await lock?.release();
  }
}
