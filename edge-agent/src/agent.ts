import {
  type AgentHealth,
  type LiveSnapshot,
  parseTopic,
  topics,
  validateAck,
  validateAdvice,
  validateAgentConfig,
} from '@cityflow/protocol';
import { LiveWindow } from './aggregate/live-window.js';
import { Summarizer } from './aggregate/summarizer.js';
import { LocalBroker } from './broker/local-broker.js';
import { AgentClock } from './clock.js';
import type { AgentConfig } from './config.js';
import { answerDiag } from './downlink/diagnostics.js';
import { LocalAdviceService } from './downlink/local-advice.js';
import { SliceState } from './downlink/slice.js';
import { HttpServer } from './health/http-server.js';
import { createMetrics, type Metrics } from './health/metrics.js';
import { RUNTIME_KEY, type RuntimeState, statusFromStore } from './health/status.js';
import { type Corkable, GroupCommit } from './ingest/group-commit.js';
import { checkReading } from './ingest/reading-checks.js';
import { createLogger, type Logger } from './logger.js';
import { LocalForecaster, loadEdgeForecaster } from './predict/local-forecaster.js';
import { C, MetaStore } from './storage/meta-store.js';
import { MinuteAccStore } from './storage/minute-acc-store.js';
import { enforceCaps } from './storage/outbox-policy.js';
import { OutboxStore } from './storage/outbox-store.js';
import { ReadingsStore } from './storage/readings-store.js';
import { type Db, openDb } from './storage/sqlite.js';
import { Drainer } from './uplink/drainer.js';
import { HubLink } from './uplink/hub-link.js';
import { AGENT_VERSION } from './version.js';

const HOUSEKEEPING_MS = 10_000;
const ADVICE_REPUBLISH_MS = 30_000;

/**
 * One edge agent: local broker -> checks -> group commit (SQLite) -> minute summaries and forecasts
 * -> outbox -> hub; downlink config/advice/diag; health. Constructor stores; start() acquires in
 * order; stop() releases in reverse (stop accepting, flush, commit, close).
 */
export class Agent {
  readonly log: Logger;
  readonly metrics: Metrics = createMetrics();
  readonly clock: AgentClock;
  private db: Db | null = null;
  private meta!: MetaStore;
  private readings!: ReadingsStore;
  private outbox!: OutboxStore;
  private slice!: SliceState;
  private commit!: GroupCommit;
  private summarizer!: Summarizer;
  private live!: LiveWindow;
  private forecaster!: LocalForecaster;
  private advice!: LocalAdviceService;
  private drainer: Drainer | null = null;
  private hub: HubLink | null = null;
  private broker: LocalBroker | null = null;
  private http: HttpServer | null = null;
  private timers: NodeJS.Timeout[] = [];
  private startedMs = Date.now();
  private lastForecastMs = 0;
  private lastMinute = 0;
  mqttUrl = '';
  httpUrl = '';

  constructor(readonly config: AgentConfig) {
    this.log = createLogger(config.logLevel, config.agentId);
    this.clock = new AgentClock(config.clock);
  }

  async start(): Promise<void> {
    const cfg = this.config;
    const db = openDb(cfg.dataDir, { sync: cfg.sync });
    this.db = db;
    try {
      await this.open(db);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async open(db: Db): Promise<void> {
    const cfg = this.config;
    this.meta = new MetaStore(db);
    this.meta.set('agent_id', cfg.agentId);
    this.readings = new ReadingsStore(db);
    this.outbox = new OutboxStore(db);
    this.slice = new SliceState(this.meta);
    this.live = new LiveWindow((road) => this.slice.speedLimit(road));
    this.forecaster = new LocalForecaster(await loadEdgeForecaster(), (road) => this.live.freeFlow(road));
    const acc = new MinuteAccStore(db);
    this.summarizer = new Summarizer(
      acc,
      this.outbox,
      this.meta,
      this.clock,
      cfg.summaryGraceS,
      (aggs) => {
        this.metrics.summaries.inc(aggs.length);
        this.forecaster.observe(aggs);
        this.drainer?.kick();
      },
      this.log.child({ mod: 'summary' }),
    );
    this.commit = new GroupCommit(
      this.readings,
      acc,
      this.meta,
      { committed: (rs) => this.onCommitted(rs) },
      {
        maxBatch: cfg.commitMaxBatch,
        closedBeforeMs: () => this.summarizer.closedBefore(),
        onCommitMs: (ms, n) => {
          this.metrics.commitSeconds.observe(ms / 1000);
          this.metrics.commitBatch.observe(n);
        },
      },
      this.log.child({ mod: 'commit' }),
    );

    this.broker = new LocalBroker(
      { port: cfg.mqttPort, host: cfg.mqttHost, sensorCredentials: cfg.sensorCredentials },
      (sensorId, topic, payload, qos, done, conn) =>
        this.onSensorMessage(sensorId, topic, payload, qos, done, conn),
      (topic, payload, reason) =>
        this.commit.enqueue({
          kind: 'quarantine',
          row: {
            recvMs: Date.now(),
            topic,
            code: 'CF_NOT_AUTHORIZED',
            errors: [`(root): ${reason}`],
            payload: payload.toString('utf8'),
          },
        }),
      this.log.child({ mod: 'broker' }),
    );
    this.advice = new LocalAdviceService(
      cfg.agentId,
      this.meta,
      () => this.clock.now() || Date.now(),
      (t, p, r) => (this.broker ? this.broker.publish(t, p, r) : Promise.resolve()),
    );
    await this.broker.start();
    this.mqttUrl = `mqtt://${hostFor(cfg.mqttHost)}:${this.broker.port}`;
    this.http = new HttpServer(
      { port: cfg.httpPort, host: cfg.httpHost },
      this.metrics.registry,
      () => this.status(),
      this.log.child({ mod: 'http' }),
    );
    await this.http.start();
    this.httpUrl = `http://${hostFor(cfg.httpHost)}:${this.http.port}`;

    if (cfg.hubUrl) this.startUplink(cfg.hubUrl);
    else this.log.warn('no --hub-url: running standalone (data stays in the outbox)');

    this.every(1000, () => this.tick());
    this.every(cfg.liveIntervalS * 1000, () => this.sendLive());
    this.every(cfg.healthIntervalS * 1000, () => this.sendHealth());
    this.every(HOUSEKEEPING_MS, () => this.housekeeping());
    this.every(
      ADVICE_REPUBLISH_MS,
      () => void this.advice.publish(this.hub?.connected ?? false).catch(() => {}),
    );
    this.housekeeping();
    void this.advice.publish(false).catch(() => {});
    this.log.info(
      { mqtt: this.mqttUrl, http: this.httpUrl, clock: cfg.clock, version: AGENT_VERSION },
      'agent started',
    );
  }

  private startUplink(url: string): void {
    const cfg = this.config;
    const drainer = new Drainer(
      this.outbox,
      {
        agentId: cfg.agentId,
        ratePerS: cfg.drainRatePerS,
        batchMaxItems: cfg.batchMaxItems,
        ackTimeoutMs: cfg.ackTimeoutS * 1000,
        maxTries: cfg.maxTries,
        ackWaitMs: 2000,
        tickMs: 100,
      },
      {
        sent: (s, n) => this.metrics.sent.inc({ stream: s }, n),
        acked: (s, n) => this.metrics.acked.inc({ stream: s }, n),
        rejected: (s, n) => {
          this.metrics.rejectedByHub.inc({ stream: s }, n);
          this.meta.add(C.rejectedByHub, n);
        },
        parked: (s, n) => {
          this.metrics.parked.inc({ stream: s }, n);
          this.meta.add(C.parked, n);
        },
        resend: (s, reason) => this.metrics.resends.inc({ stream: s, reason }),
      },
      this.log.child({ mod: 'drain' }),
    );
    this.drainer = drainer;
    const hub = new HubLink(
      {
        url,
        agentId: cfg.agentId,
        username: cfg.hubUsername,
        password: cfg.hubPassword,
        version: AGENT_VERSION,
        backoffBaseMs: cfg.backoffBaseMs,
        backoffMaxMs: cfg.backoffMaxMs,
      },
      {
        connected: () => {
          this.metrics.hubConnected.set(1);
          this.saveRuntime();
          drainer.connected((topic, payload) => hub.publish(topic, payload, 1));
          this.sendHealth();
        },
        subscribed: () => drainer.subscribed(),
        disconnected: () => {
          this.metrics.hubConnected.set(0);
          this.saveRuntime();
          drainer.disconnected();
          void this.advice.publish(false).catch(() => {});
        },
        message: (topic, payload) => this.onHubMessage(topic, payload),
      },
      this.log.child({ mod: 'hub' }),
    );
    this.hub = hub;
    hub.start();
  }

  private onSensorMessage(
    sensorId: string,
    topic: string,
    payload: Buffer,
    qos: number,
    done: (e: Error | null) => void,
    conn?: Corkable,
  ): void {
    const recvMs = Date.now();
    const r = checkReading(sensorId, payload, this.slice, this.clock, this.config);
    const item = r.ok
      ? ({ kind: 'reading', reading: r.reading, recvMs } as const)
      : ({
          kind: 'quarantine',
          row: { recvMs, topic, code: r.code, errors: r.errors, payload: payload.toString('utf8') },
        } as const);
    if (!r.ok) this.metrics.quarantined.inc({ code: r.code });
    // QoS 1: PUBACK after COMMIT. QoS 0 is best effort by definition: acknowledge nothing, just queue.
    if (qos > 0) this.commit.enqueue(item, done, conn);
    else {
      this.commit.enqueue(item);
      done(null);
    }
  }

  private onCommitted(rs: ReadingCommitted): void {
    if (rs.length === 0) return;
    this.metrics.readings.inc(rs.length);
    let max = 0;
    for (const r of rs) if (r.tsMs > max) max = r.tsMs;
    this.clock.observeData(max);
    this.live.add(rs);
    if (this.clock.mode === 'data') {
      // Data time moves with the readings: close minutes and run forecasts as soon as it crosses them.
      const minute = Math.floor(this.clock.now() / 60_000);
      if (minute !== this.lastMinute) {
        this.lastMinute = minute;
        this.tick();
      }
    }
  }

  private onHubMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t || !('agentId' in t) || t.agentId !== this.config.agentId) return;
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      this.log.warn({ topic }, 'hub message is not JSON; ignored');
      return;
    }
    if (t.kind === 'ack') {
      const r = validateAck(value);
      if (!r.ok) return void this.log.warn({ topic, errors: r.errors }, 'invalid ack ignored');
      this.clock.observeHubTime(Date.parse(r.value.hub_ts));
      this.drainer?.onAck(r.value);
    } else if (t.kind === 'config') {
      const r = validateAgentConfig(value);
      const errors = r.ok ? this.slice.apply(r.value) : r.errors;
      if (errors.length) this.log.warn({ errors }, 'invalid config from hub ignored; keeping the last one');
      else
        this.log.info(
          { issued_at: this.slice.issuedAt, sensors: this.slice.sensors()?.size },
          'network slice received',
        );
    } else if (t.kind === 'advice') {
      const r = validateAdvice(value);
      if (!r.ok) return void this.log.warn({ errors: r.errors }, 'invalid advice ignored');
      this.advice.update(r.value);
      void this.advice.publish(true).catch(() => {});
    } else if (t.kind === 'diag-request') {
      const res = answerDiag(this.config.agentId, this.readings, value);
      this.hub?.publish(topics.uplink(this.config.agentId, 'diag'), JSON.stringify(res), 1).catch(() => {});
    }
  }

  private tick(): void {
    if (!this.db) return;
    this.summarizer.tick();
    const now = this.clock.now();
    if (now > 0 && now - this.lastForecastMs >= this.config.forecastIntervalS * 1000) {
      this.lastForecastMs = now;
      const recs = this.forecaster.cycle(now);
      if (recs.length) {
        this.meta.transaction(() => {
          for (const f of recs) this.outbox.append('forecast', f, Date.now());
        });
        this.metrics.forecasts.inc(recs.length);
        this.drainer?.kick();
      }
    }
  }

  private sendLive(): void {
    if (!this.hub?.connected) return;
    const now = this.clock.now() || Date.now();
    const snap: LiveSnapshot = {
      v: 1,
      agent_id: this.config.agentId,
      stream: 'live',
      ts: new Date(now).toISOString(),
      roads: this.live.snapshot(now),
    };
    this.hub.publish(topics.uplink(this.config.agentId, 'live'), JSON.stringify(snap), 0).catch(() => {});
  }

  health(): AgentHealth {
    const s = this.status();
    return {
      v: 1,
      agent_id: this.config.agentId,
      stream: 'health',
      ts: new Date().toISOString(),
      version: AGENT_VERSION,
      uptime_s: Math.round((Date.now() - this.startedMs) / 1000),
      rss_bytes: process.memoryUsage().rss,
      backlog: s.outbox_pending as number,
      oldest_unsent_age_s: s.outbox_oldest_age_s as number | null,
      readings_total: s.readings_total as number,
      quarantined_total: s.quarantined_total as number,
      dropped: s.dropped as Record<string, number>,
      clock: this.clock.state(),
    };
  }

  private sendHealth(): void {
    if (!this.hub?.connected || !this.db) return;
    this.hub
      .publish(topics.uplink(this.config.agentId, 'health'), JSON.stringify(this.health()), 0)
      .catch(() => {});
  }

  private housekeeping(): void {
    if (!this.db) return;
    try {
      const c = this.config;
      const dropped = enforceCaps(
        this.db,
        this.outbox,
        this.readings,
        this.meta,
        {
          outboxMaxBytes: c.outboxMaxBytes,
          outboxMaxAgeMs: c.outboxMaxAgeH * 3_600_000,
          dbMaxBytes: c.dbMaxBytes,
          rawRetentionMs: c.rawRetentionH * 3_600_000,
          quarantineMax: c.quarantineMax,
        },
        Date.now(),
        this.clock.now(),
      );
      for (const [reason, n] of Object.entries(dropped)) this.metrics.dropped.inc({ reason }, n);
      if (Object.keys(dropped).length) {
        this.log.warn({ dropped }, 'outbox policy dropped items');
        this.drainer?.kick(true);
      }
      this.saveRuntime();
      this.status();
    } catch (e) {
      this.log.error({ err: e }, 'housekeeping failed');
    }
  }

  /** Runs the housekeeping (caps, retention) now; for tests and the `buffer` verbs. */
  enforceCapsNow(): void {
    this.housekeeping();
  }

  private saveRuntime(): void {
    if (!this.db) return;
    const rt: RuntimeState = {
      pid: process.pid,
      hub_connected: this.hub?.connected ?? false,
      hub_url: this.config.hubUrl ?? null,
      mqtt_url: this.mqttUrl,
      http_url: this.httpUrl,
      clock: this.clock.state(),
      updated_ms: Date.now(),
    };
    this.meta.set(RUNTIME_KEY, rt);
  }

  status(): Record<string, unknown> {
    if (!this.db) return { agent_id: this.config.agentId, running: false };
    const s = statusFromStore(this.meta, this.outbox, Date.now());
    const clock = this.clock.state();
    const m = this.metrics;
    m.outboxPending.set(
      { stream: 'summary' },
      (s.streams as Record<string, { pending: number }>).summary?.pending ?? 0,
    );
    m.outboxPending.set(
      { stream: 'forecast' },
      (s.streams as Record<string, { pending: number }>).forecast?.pending ?? 0,
    );
    m.outboxBytes.set(s.outbox_bytes as number);
    m.outboxOldestAge.set((s.outbox_oldest_age_s as number | null) ?? 0);
    m.clockSynced.set(clock.synced ? 1 : 0);
    if (clock.skew_s !== null) m.clockSkew.set(clock.skew_s);
    return {
      ...s,
      agent_id: this.config.agentId,
      running: true,
      version: AGENT_VERSION,
      uptime_s: Math.round((Date.now() - this.startedMs) / 1000),
      hub_connected: this.hub?.connected ?? false,
      hub_url: this.config.hubUrl ?? null,
      hub_last_error: this.hub?.lastError ?? null,
      hub_reconnects: this.hub?.reconnects ?? 0,
      clock,
      mqtt_url: this.mqttUrl,
      http_url: this.httpUrl,
      data_dir: this.config.dataDir,
      forecast_model: this.forecaster?.modelVersion ?? null,
      rss_bytes: process.memoryUsage().rss,
      pid: process.pid,
    };
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(
      setInterval(() => {
        try {
          fn();
        } catch (e) {
          this.log.error({ err: e }, 'periodic task failed');
        }
      }, ms),
    );
  }

  /** Graceful stop: stop accepting, flush and commit, close minutes, say offline, close. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.broker?.stop().catch((e) => this.log.error({ err: e }, 'broker stop failed'));
    this.broker = null;
    this.commit?.close();
    this.drainer?.disconnected();
    await this.hub?.stop().catch((e) => this.log.error({ err: e }, 'hub link stop failed'));
    this.hub = null;
    if (this.db) {
      try {
        this.summarizer?.tick();
        this.saveRuntime();
        this.meta?.set(RUNTIME_KEY, {
          ...this.meta.get<RuntimeState>(RUNTIME_KEY),
          hub_connected: false,
          pid: 0,
        });
      } catch (e) {
        this.log.error({ err: e }, 'final commit failed');
      }
    }
    await this.http?.stop();
    this.http = null;
    this.db?.close();
    this.db = null;
    this.log.info('agent stopped');
    this.log.flush?.();
  }
}

type ReadingCommitted = Parameters<LiveWindow['add']>[0];

/** URLs other processes can use: a wildcard bind is reached through loopback. */
function hostFor(bind: string): string {
  return bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
}
