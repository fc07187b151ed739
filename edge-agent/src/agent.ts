import { type AgentHealth, type LiveSnapshot, topics } from '@cityflow/protocol';
import type { LiveWindow } from './aggregate/live-window.js';
import type { Summarizer } from './aggregate/summarizer.js';
import { hostFor } from './broker/listen.js';
import { LocalBroker } from './broker/local-broker.js';
import { AgentClock } from './clock.js';
import type { AgentConfig } from './config.js';
import { handleHubMessage } from './downlink/hub-handlers.js';
import { LocalAdviceService } from './downlink/local-advice.js';
import type { SliceState } from './downlink/slice.js';
import { Alarms } from './health/alarms.js';
import { HttpServer } from './health/http-server.js';
import { type LiveStatusSources, liveStatus, probeDocument, runtimeState } from './health/live-status.js';
import { createMetrics, type Metrics } from './health/metrics.js';
import { healthMessage, RUNTIME_KEY } from './health/status.js';
import type { Ingest } from './ingest/ingest.js';
import { createLogger, type Logger } from './logger.js';
import { Periodic } from './periodic.js';
import { buildPipeline } from './pipeline.js';
import { queueForecasts } from './predict/forecast-outbox.js';
import type { LocalForecaster } from './predict/local-forecaster.js';
import { MetaStore } from './storage/meta-store.js';
import { markSuspect, raiseRecoveryAlarm } from './storage/corrupt-db.js';
import type { DiskFullGuard } from './storage/disk-full.js';
import { openOrRecover } from './storage/open-or-recover.js';
import { capsOf, enforceCaps } from './storage/outbox-policy.js';
import { OutboxStore } from './storage/outbox-store.js';
import { ReadingsStore } from './storage/readings-store.js';
import { type Db, startCheckpointer } from './storage/sqlite.js';
import type { Drainer } from './uplink/drainer.js';
import type { HubLink } from './uplink/hub-link.js';
import { createUplink } from './uplink/uplink.js';
import { AGENT_VERSION } from './version.js';

const HOUSEKEEPING_MS = 10_000;
const ADVICE_REPUBLISH_MS = 30_000;

/**
 * One edge agent: local broker -> checks -> group commit (SQLite) -> minute summaries and forecasts
 * -> outbox -> hub; downlink config/advice/diag; health. Constructor stores; start() acquires in
 * order; stop() releases in reverse (stop accepting, flush, commit, close). The data path is wired in
 * pipeline.ts, the status document in health/live-status.ts, downlink messages in
 * downlink/hub-handlers.ts; this class owns the lifecycle and the timers.
 */
export class Agent {
  readonly log: Logger;
  readonly metrics: Metrics = createMetrics();
  readonly clock: AgentClock;
  readonly alarms = new Alarms();
  private diskFull!: DiskFullGuard;
  private db: Db | null = null;
  private meta!: MetaStore;
  private readings!: ReadingsStore;
  private outbox!: OutboxStore;
  private slice!: SliceState;
  private ingest!: Ingest;
  private summarizer!: Summarizer;
  private live!: LiveWindow;
  private forecaster!: LocalForecaster;
  private advice!: LocalAdviceService;
  private drainer: Drainer | null = null;
  private hub: HubLink | null = null;
  private broker: LocalBroker | null = null;
  private http: HttpServer | null = null;
  private readonly periodic: Periodic;
  private stopCheckpointer: (() => Promise<void>) | null = null;
  private liveTimer: NodeJS.Timeout | null = null;
  private liveIntervalS: number;
  private forecastIntervalS: number;
  private startedMs = Date.now();
  private lastForecastMs = 0;
  private lastMinute = 0; // data mode: the minute of the data clock at the last tick
  mqttUrl = '';
  httpUrl = '';
  /**
   * The entry point's way out when the agent cannot go on (a corrupt page met while running): the
   * CLI stops and exits non-zero so the supervisor restarts it into the full start-up check.
   */
  onFatal: (e: Error) => void = () => {};
  private fatal = false;

  constructor(readonly config: AgentConfig) {
    this.log = createLogger(config.logLevel, config.agentId);
    this.clock = new AgentClock(config.clock);
    this.periodic = new Periodic(this.log);
    this.liveIntervalS = config.liveIntervalS;
    this.forecastIntervalS = config.forecastIntervalS;
  }

  async start(): Promise<void> {
    const cfg = this.config;
    const { db } = openOrRecover(
      cfg.dataDir,
      { sync: cfg.sync, cacheKb: cfg.sqliteCacheKb },
      this.log.child({ mod: 'db' }),
    );
    this.db = db;
    if (cfg.checkpointWorker)
      this.stopCheckpointer = startCheckpointer(db, cfg.dataDir, 2000, (e) =>
        this.log.error({ err: e }, 'checkpoint worker failed; checkpoints back on the main thread'),
      );
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
    raiseRecoveryAlarm(this.meta, this.alarms);
    ({
      diskFull: this.diskFull,
      slice: this.slice,
      live: this.live,
      forecaster: this.forecaster,
      summarizer: this.summarizer,
      ingest: this.ingest,
    } = buildPipeline(
      {
        db,
        cfg,
        meta: this.meta,
        readings: this.readings,
        outbox: this.outbox,
        clock: this.clock,
        alarms: this.alarms,
        metrics: this.metrics,
        log: this.log,
      },
      {
        summarized: () => this.drainer?.kick(),
        committed: () => this.onCommitted(),
        corrupt: (e) => this.corruptWhileRunning(e),
      },
    ));
    const ingest = this.ingest;
    this.broker = new LocalBroker(
      {
        port: cfg.mqttPort,
        host: cfg.mqttHost,
        sensorCredentials: cfg.sensorCredentials,
        maxConnections: cfg.mqttMaxConnections,
        publishRatePerS: cfg.mqttPublishRatePerS,
        onRefuse: (reason) => this.metrics.brokerRefused.inc({ reason }),
      },
      (...args) => ingest.onSensorMessage(...args),
      (topic, payload, reason) => ingest.onDenied(topic, payload, reason),
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
      (gc) => this.status(gc),
      () => this.probe(),
      this.log.child({ mod: 'http' }),
    );
    await this.http.start();
    this.httpUrl = `http://${hostFor(cfg.httpHost)}:${this.http.port}`;

    if (cfg.hubUrl) this.startUplink(cfg.hubUrl);
    else this.log.warn('no --hub-url: running standalone (data stays in the outbox)');

    this.periodic.every(1000, () => this.tick());
    this.liveTimer = this.periodic.every(cfg.liveIntervalS * 1000, () => this.sendLive());
    this.periodic.every(cfg.healthIntervalS * 1000, () => this.sendHealth());
    this.periodic.every(HOUSEKEEPING_MS, () => this.enforceCapsNow());
    this.periodic.every(
      ADVICE_REPUBLISH_MS,
      () => void this.advice.publish(this.hub?.connected ?? false).catch(() => {}),
    );
    this.enforceCapsNow();
    void this.advice.publish(false).catch(() => {});
    this.log.info(
      { mqtt: this.mqttUrl, http: this.httpUrl, clock: cfg.clock, version: AGENT_VERSION },
      'agent started',
    );
  }

  private startUplink(url: string): void {
    const { drainer, hub } = createUplink(url, this.config, this.outbox, this.meta, this.metrics, this.log, {
      connected: () => {
        this.saveRuntime();
        this.sendHealth();
      },
      disconnected: () => {
        this.saveRuntime();
        void this.advice.publish(false).catch(() => {});
      },
      message: (topic, payload, retained) => this.onHubMessage(topic, payload, retained),
    });
    this.drainer = drainer;
    this.hub = hub;
    hub.start();
  }

  /** Readings are in the live window and have moved the data clock. */
  private onCommitted(): void {
    if (this.clock.mode === 'data') {
      // Data time moves with the readings: close minutes and run forecasts as soon as it crosses them.
      const minute = Math.floor(this.clock.now() / 60_000);
      if (minute !== this.lastMinute) {
        this.lastMinute = minute;
        this.tick();
      }
    }
  }

  private onHubMessage(topic: string, payload: Buffer, retained: boolean): void {
    const parts = {
      agentId: this.config.agentId,
      log: this.log,
      clock: this.clock,
      slice: this.slice,
      advice: this.advice,
      readings: this.readings,
      drainer: () => this.drainer,
      hub: () => this.hub,
      applySettings: (settings: Parameters<Agent['applySettings']>[0]) => this.applySettings(settings),
    };
    handleHubMessage(parts, topic, payload, retained);
  }

  /** Closes minutes and runs forecasts; a full disk is the guard's business (retried next tick). */
  private tick(): void {
    try {
      this.tickOnce();
    } catch (e) {
      if (!this.diskFull.onWriteError(e, 0)) throw e;
    }
  }

  private tickOnce(): void {
    if (!this.db) return;
    this.summarizer.tick();
    const now = this.clock.now();
    if (now > 0 && now - this.lastForecastMs >= this.forecastIntervalS * 1000) {
      this.lastForecastMs = now;
      const queued = queueForecasts(this.forecaster, this.meta, this.outbox, now);
      if (queued) {
        this.metrics.forecasts.inc(queued);
        this.drainer?.kick();
      }
    }
  }

  private sendLive(): void {
    // The window is pruned as it is read, so read it even offline (bounded memory with many sensors).
    if (!this.hub?.connected) return void this.live.snapshot(this.clock.now() || Date.now());
    const now = this.clock.now() || Date.now();
    const roads = this.live.snapshot(now);
    const snap: LiveSnapshot = {
      v: 1,
      agent_id: this.config.agentId,
      stream: 'live',
      ts: new Date(now).toISOString(),
      roads,
    };
    this.hub.publish(topics.uplink(this.config.agentId, 'live'), JSON.stringify(snap), 0).catch(() => {});
  }

  health(): AgentHealth {
    return healthMessage(this.config.agentId, this.status(), this.clock.state(), this.startedMs);
  }

  private sendHealth(): void {
    if (!this.hub?.connected || !this.db) return;
    this.hub
      .publish(topics.uplink(this.config.agentId, 'health'), JSON.stringify(this.health()), 0)
      .catch(() => {});
  }

  /** Housekeeping (caps, retention), every HOUSEKEEPING_MS; public so tests can run it now. */
  enforceCapsNow(): void {
    if (!this.db) return;
    try {
      const dropped = enforceCaps(
        this.db,
        this.outbox,
        this.readings,
        this.meta,
        capsOf(this.config),
        Date.now(),
        this.clock.now(),
      );
      for (const [reason, n] of Object.entries(dropped)) this.metrics.dropped.inc({ reason }, n);
      if (Object.keys(dropped).length) {
        this.log.warn({ dropped }, 'outbox policy dropped items');
        this.drainer?.kick(true);
      }
      this.saveRuntime();
      this.diskFull.check(true);
      this.status();
    } catch (e) {
      if (this.diskFull.onWriteError(e, 0)) return;
      this.log.error({ err: e }, 'housekeeping failed');
    }
  }

  private saveRuntime(): void {
    if (!this.db) return;
    this.meta.set(RUNTIME_KEY, runtimeState(this.statusSources()));
  }

  status(gc = false): Record<string, unknown> {
    if (!this.db) return { agent_id: this.config.agentId, running: false };
    return liveStatus(this.statusSources(), gc);
  }

  private statusSources(): LiveStatusSources {
    return {
      config: this.config,
      meta: this.meta,
      outbox: this.outbox,
      slice: this.slice,
      clock: this.clock,
      alarms: this.alarms,
      metrics: this.metrics,
      diskFull: this.diskFull,
      hub: this.hub,
      forecaster: this.forecaster,
      mqttUrl: this.mqttUrl,
      httpUrl: this.httpUrl,
      startedMs: this.startedMs,
    };
  }

  /**
   * SQLITE_CORRUPT on a write: nothing of the batch was acknowledged (sensors resend), the file is
   * marked so the next start checks every page (and moves it aside if the damage is real), and the
   * entry point is asked to stop: going on would refuse every reading for ever.
   */
  private corruptWhileRunning(e: unknown): void {
    if (this.fatal) return;
    this.fatal = true;
    markSuspect(this.config.dataDir, e, this.log);
    this.log.fatal(
      { err: e },
      'database corrupt while running: stopping; the next start checks the whole file',
    );
    this.onFatal(e as Error);
  }

  /** `/health`: constant work whatever the backlog (a probe flood must not delay PUBACKs). */
  probe(): Record<string, unknown> {
    return probeDocument(this.statusSources());
  }

  /** The hub's config may carry settings; they override the local file until the next config. */
  private applySettings(
    settings: { live_interval_s?: number; forecast_interval_s?: number } | undefined,
  ): void {
    const live = settings?.live_interval_s ?? this.config.liveIntervalS;
    if (live !== this.liveIntervalS && this.liveTimer)
      this.liveTimer = this.periodic.reschedule(this.liveTimer, live * 1000, () => this.sendLive());
    this.liveIntervalS = live;
    this.forecastIntervalS = settings?.forecast_interval_s ?? this.config.forecastIntervalS;
  }

  /** Graceful stop: stop accepting, flush and commit, close minutes, say offline, close. */
  async stop(): Promise<void> {
    this.periodic.clear();
    await this.broker?.stop().catch((e) => this.log.error({ err: e }, 'broker stop failed'));
    this.broker = null;
    this.ingest?.commit.close();
    this.drainer?.disconnected();
    await this.hub?.stop().catch((e) => this.log.error({ err: e }, 'hub link stop failed'));
    this.hub = null;
    if (this.db) {
      try {
        this.summarizer?.tick();
        this.meta.set(RUNTIME_KEY, { ...runtimeState(this.statusSources()), hub_connected: false, pid: 0 });
      } catch (e) {
        this.log.error({ err: e }, 'final commit failed');
      }
    }
    await this.http?.stop();
    this.http = null;
    await this.stopCheckpointer?.();
    this.stopCheckpointer = null;
    this.db?.close();
    this.db = null;
    this.log.info('agent stopped');
    this.log.flush?.();
  }
}
