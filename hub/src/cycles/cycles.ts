import {
  type Advice,
  type Incident,
  type Network,
  type Prediction,
  type Reroute,
  type Road,
  topics,
} from '@cityflow/protocol';
import type { Logger } from 'pino';
import type { HubClock } from '../clock.js';
import type { HubConfig } from '../config.js';
import type { Db } from '../db/db.js';
import { runRetention } from '../db/storage-policy.js';
import type { TimescaleJobRunner } from '../db/timescale-jobs.js';
import type { LiveBus } from '../live/bus.js';
import type { ResponseCache } from '../live/cache.js';
import type { HubMetrics } from '../metrics.js';
import { activeIncidents, upsertIncident } from '../store/incidents.js';
import { endReroutes, insertReroutes, listPredictions, liveForPlanning } from '../store/traffic.js';
import { DetourPlanner } from '../routing/detour-planner.js';
import { IncidentDetector } from '../routing/incident-detector.js';
import { assessRoads } from '../routing/road-conditions.js';
import { roadInputs } from '../routing/road-inputs.js';
import { RoadSmoother } from '../routing/road-smoother.js';
import { PredictionCycle } from './prediction-cycle.js';

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
  /** on PGlite with TimescaleDB (no background workers): runs the due policy jobs each cycle */
  timescaleJobs?: Pick<TimescaleJobRunner, 'runDue'>;
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
  private readonly planner: DetourPlanner;
  private readonly incidents = new IncidentDetector();
  private readonly smoother = new RoadSmoother();
  private incidentsResumed = false;
  private readonly predictor: PredictionCycle;
  private readonly adviceByAgent = new Map<string, Advice>();
  /** road -> the agents whose slice holds it (advice goes to each) */
  private readonly agentsOfRoad = new Map<string, string[]>();
  /** cycles this process ran (tests and scale-out checks) */
  runs = 0;
  /** active-clock time of the last completed cycle */
  lastRunAtMs: number | null = null;

  constructor(private readonly d: CycleDeps) {
    this.planner = new DetourPlanner(d.net, {
      congestedScore: d.config.rerouteThreshold,
      clearScore: d.config.rerouteClear,
      compliance: d.config.rerouteCompliance,
    });
    this.predictor = new PredictionCycle(d.db, d.net);
    for (const [agentId, slice] of d.net.agents)
      for (const road of slice.roads)
        this.agentsOfRoad.set(road, [...(this.agentsOfRoad.get(road) ?? []), agentId]);
  }

  get leader(): boolean {
    return this.lock !== null;
  }

  async start(): Promise<void> {
    const periodMs = this.d.config.cycleIntervalS * 1000;
    this.nextDueMs = Math.floor(this.d.clock.now() / periodMs) * periodMs + periodMs;
    // Data mode polls the data clock often: a simulation waits on the cycle (SUMO closed loop).
    const pollMs = this.d.config.clock === 'data' ? Math.min(250, periodMs) : periodMs;
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
        await runRetention(this.d.db, this.d.clock.mode, {
          nowMs: this.d.clock.now(),
          quarantineMaxBytes: this.d.config.quarantineMaxBytes,
        }).catch((e) => this.d.log.warn({ err: (e as Error).message }, 'retention failed'));
      }
      if (this.d.timescaleJobs)
        await this.timed('timescale_jobs', () => this.d.timescaleJobs!.runDue()).catch((e) =>
          this.d.log.warn({ err: (e as Error).message }, 'TimescaleDB jobs failed'),
        );
      this.runs++;
      this.lastRunAtMs = nowMs;
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
    } catch (e) {
      this.d.metrics.cycleFailures.inc({ cycle });
      throw e;
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

  /**
   * Reads the city (live snapshots + best forecasts), detects incidents, plans detours, stores them,
   * closes advice that ended and publishes the rest (WebSocket, agents).
   */
  private async reroutes(nowMs: number): Promise<Reroute[]> {
    if (!this.incidentsResumed) {
      this.incidents.resume(await activeIncidents(this.d.db));
      this.incidentsResumed = true;
    }
    const [live, p15, p30] = await Promise.all([
      liveForPlanning(this.d.db),
      listPredictions(this.d.db, { horizon: 15, limit: 100_000, before: null }),
      listPredictions(this.d.db, { horizon: 30, limit: 100_000, before: null }),
    ]);
    const signalised = (r: Road) => this.d.net.intersections.has(r.to_node);
    const inputs = roadInputs(live, [...p15, ...p30], nowMs, (id) => this.d.net.sensors.get(id)?.lane_index);
    // Incidents on the raw minute (onset matters); advice on the smoothed view (signal noise does not).
    const conds = assessRoads(this.d.net, inputs, signalised);
    const changes = this.incidents.observe(conds, nowMs);
    const touched: Incident[] = [...changes.opened, ...changes.cleared];
    for (const i of touched) await upsertIncident(this.d.db, i);
    if (touched.length) void this.d.cache.invalidate('incidents');
    for (const i of touched) this.d.bus.publish({ type: 'incident', data: i });
    const periodMs = this.d.config.cycleIntervalS * 1000;
    const planned = assessRoads(this.d.net, this.smoother.smooth(inputs), signalised);
    // A detected incident is a change of state, not noise: its road is planned on the raw minute.
    for (const [id, c] of conds) if (this.incidents.activeOn(id)) planned.set(id, c);
    const items = this.planner.plan(
      planned,
      (id) => this.incidents.activeOn(id),
      nowMs,
      2 * periodMs + 30_000,
    );
    await insertReroutes(this.d.db, items);
    // Advice that ended stops being served now, not when its last validity runs out.
    if (this.planner.ended.length) {
      await endReroutes(this.d.db, this.planner.ended, new Date(nowMs).toISOString());
      for (const [road_id, why] of this.planner.endedWhy) this.d.log.info({ road_id, why }, 'advice ended');
    }
    await this.d.cache.invalidate('reroutes');
    this.d.metrics.co2Gain.set(items.reduce((s, r) => s + r.estimated_co2_gain, 0));
    for (const r of items) this.d.bus.publish({ type: 'reroute', data: r });
    await this.publishAdvice(items, nowMs);
    return items;
  }

  /** Each agent gets, retained, the reroutes that touch its roads (possibly none, which clears old advice). */
  private async publishAdvice(items: Reroute[], nowMs: number) {
    const byAgent = new Map<string, Reroute[]>();
    for (const r of items) {
      const agents = new Set<string>();
      for (const road of [r.route_id, ...r.path])
        for (const a of this.agentsOfRoad.get(road) ?? []) agents.add(a);
      for (const a of agents) byAgent.set(a, [...(byAgent.get(a) ?? []), r]);
    }
    for (const agentId of this.d.net.agents.keys()) {
      const mine = byAgent.get(agentId) ?? [];
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
