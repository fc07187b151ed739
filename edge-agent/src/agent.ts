import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEdgeForecaster } from '@cityflow/forecast';
import { type AgentHealth, type LiveSnapshot, topics } from '@cityflow/protocol';
import { LiveWindow } from './aggregate/live-window.js';
import { Summarizer } from './aggregate/summarizer.js';
import { hostFor } from './broker/listen.js';
import { LocalBroker } from './broker/local-broker.js';
import { AgentClock } from './clock.js';
import type { AgentConfig } from './config.js';
import { answerDiag } from './downlink/diagnostics.js';
import { LocalAdviceService } from './downlink/local-advice.js';
import { SliceState } from './downlink/slice.js';
import { Alarms } from './health/alarms.js';
import { HttpServer } from './health/http-server.js';
import { createMetrics, type Metrics, updateGauges } from './health/metrics.js';
import { memoryFields } from './health/memory.js';
import { healthMessage, RUNTIME_KEY, type RuntimeState, statusFromStore } from './health/status.js';
import { Ingest } from './ingest/ingest.js';
import { createLogger, type Logger } from './logger.js';
import { LocalForecaster } from './predict/local-forecaster.js';
import { MetaStore } from './storage/meta-store.js';
import { MinuteAccStore } from './storage/minute-acc-store.js';
import { isCorruptError, SUSPECT_FILE } from './storage/db-check.js';
import { DiskFullGuard } from './storage/disk-full.js';
import { RECOVERY_KEY, type RecoveryRecord, openOrRecover } from './storage/open-or-recover.js';
import { capsOf, enforceCaps, freeForDiskFull } from './storage/outbox-policy.js';
import { OutboxStore } from './storage/outbox-store.js';
import { ReadingsStore } from './storage/readings-store.js';
import { type Db, startCheckpointer } from './storage/sqlite.js';
import type { Drainer } from './uplink/drainer.js';
import type { HubLink } from './uplink/hub-link.js';
import { createUplink } from './uplink/uplink.js';
import { routeHubMessage } from './downlink/hub-messages.js';
import { redactUrl } from './redact.js';
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
  private timers: NodeJS.Timeout[] = [];
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
    // the alarm stays while the moved-aside file is there for an operator to look at
    const rec = this.meta.get<RecoveryRecord>(RECOVERY_KEY);
    if (rec && existsSync(rec.moved_to))
      this.alarms.set(
        'CF_DB_CORRUPT',
        true,
        `corrupt database moved to ${rec.moved_to} (${rec.reason}); salvaged ${JSON.stringify(rec.salvaged)}, lost seqs ${JSON.stringify(rec.lost_seqs)}`,
        rec.at_ms,
      );
    this.diskFull = new DiskFullGuard(
      cfg.dataDir,
      this.alarms,
      () =>
        freeForDiskFull(db, this.outbox, this.readings, this.meta, capsOf(cfg), Date.now(), this.clock.now()),
      (full) => this.metrics.diskFull.set(full ? 1 : 0),
      this.log.child({ mod: 'disk' }),
    );
    this.diskFull.start();
    this.slice = new SliceState(this.meta);
    this.live = new LiveWindow((road) => this.slice.speedLimit(road));
    this.forecaster = new LocalForecaster(createEdgeForecaster(), (road) => this.live.freeFlow(road));
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
    this.ingest = new Ingest(
      this.readings,
      acc,
      this.meta,
      this.slice,
      this.clock,
      cfg,
      this.metrics,
      () => this.summarizer.closedBefore(),
      (rs) => this.onCommitted(rs),
      this.log.child({ mod: 'commit' }),
      {
        onFailed: (e, n) => {
          if (isCorruptError(e)) this.corruptWhileRunning(e);
          const handled = this.diskFull.onWriteError(e, n);
          if (handled) this.metrics.diskFullRejected.inc(n);
          return handled;
        },
        onCommitted: () => this.diskFull.check(),
      },
    );
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

    this.every(1000, () => this.tick());
    this.liveTimer = this.every(cfg.liveIntervalS * 1000, () => this.sendLive());
    this.every(cfg.healthIntervalS * 1000, () => this.sendHealth());
    this.every(HOUSEKEEPING_MS, () => this.enforceCapsNow());
    this.every(
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

  private onCommitted(rs: Parameters<LiveWindow['add']>[0]): void {
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

  private onHubMessage(topic: string, payload: Buffer, retained: boolean): void {
    routeHubMessage(topic, payload, {
      agentId: this.config.agentId,
      log: this.log,
      ack: (ack) => {
        // a retained ack is as old as the hub's last one (hours, if it is down): no skew from it
        if (!retained) this.clock.observeHubTime(Date.parse(ack.hub_ts));
        this.drainer?.onAck(ack);
      },
      config: (config) => {
        const errors = this.slice.apply(config);
        if (errors.length) return errors;
        this.applySettings(config.settings);
        this.log.info(
          { issued_at: config.issued_at, sensors: this.slice.sensors()?.size },
          'network slice received',
        );
        return [];
      },
      advice: (advice) => {
        this.advice.update(advice);
        void this.advice.publish(true).catch(() => {});
      },
      diag: (request) => {
        const res = answerDiag(this.config.agentId, this.readings, request);
        this.hub?.publish(topics.uplink(this.config.agentId, 'diag'), JSON.stringify(res), 1).catch(() => {});
      },
    });
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
    // The window is pruned as it is read, so read it even offline (bounded memory with many sensors).
    if (!this.hub?.connected) return void this.live.snapshot(this.clock.now() || Date.now());
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
    const rt: RuntimeState = {
      pid: process.pid,
      hub_connected: this.hub?.connected ?? false,
      hub_url: this.config.hubUrl ? redactUrl(this.config.hubUrl) : null,
      mqtt_url: this.mqttUrl,
      http_url: this.httpUrl,
      clock: this.clock.state(),
      alarms: this.alarms.list(),
      updated_ms: Date.now(),
    };
    this.meta.set(RUNTIME_KEY, rt);
  }

  status(gc = false): Record<string, unknown> {
    if (!this.db) return { agent_id: this.config.agentId, running: false };
    const issuedAt = this.slice.issuedAt;
    const sensors = this.slice.sensors();
    const s = statusFromStore(
      this.meta,
      this.outbox,
      Date.now(),
      issuedAt && sensors ? { issued_at: issuedAt, sensors: sensors.size } : null,
    );
    const clock = this.clock.state();
    const alarms = this.refreshAlarms(clock, s.parked_total as number);
    updateGauges(this.metrics, s, clock);
    return {
      ...s,
      alarms,
      disk_full: this.diskFull.isFull,
      disk_full_rejected_total: this.diskFull.rejected,
      agent_id: this.config.agentId,
      running: true,
      version: AGENT_VERSION,
      uptime_s: Math.round((Date.now() - this.startedMs) / 1000),
      hub_connected: this.hub?.connected ?? false,
      hub_url: this.config.hubUrl ? redactUrl(this.config.hubUrl) : null,
      hub_last_error: this.hub?.lastError ?? null,
      hub_reconnects: this.hub?.reconnects ?? 0,
      clock,
      mqtt_url: this.mqttUrl,
      http_url: this.httpUrl,
      data_dir: this.config.dataDir,
      forecast_model: this.forecaster?.modelVersion ?? null,
      ...memoryFields(gc),
      pid: process.pid,
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
    try {
      writeFileSync(
        join(this.config.dataDir, SUSPECT_FILE),
        `${new Date().toISOString()} ${(e as Error).message}\n`,
      );
    } catch (err) {
      this.log.error({ err }, 'could not write the corruption marker');
    }
    this.log.fatal(
      { err: e },
      'database corrupt while running: stopping; the next start checks the whole file',
    );
    this.onFatal(e as Error);
  }

  /** The alarms derived from state (clock, parked rows) are refreshed whenever status is read. */
  private refreshAlarms(clock: { mode: string; synced: boolean }, parked: number) {
    this.alarms.set(
      'CF_CLOCK_UNSYNCED',
      clock.mode === 'wall' && !clock.synced,
      'no hub time heard in the last hour: reading timestamps are not checked against a reference',
    );
    this.alarms.set('CF_PARKED_ROWS', parked > 0, `${parked} outbox rows parked after too many tries`);
    const list = this.alarms.list();
    this.metrics.alarms.reset();
    for (const a of list) this.metrics.alarms.set({ code: a.code }, 1);
    return list;
  }

  /** `/health`: constant work whatever the backlog (a probe flood must not delay PUBACKs). */
  probe(): Record<string, unknown> {
    return {
      status: 'ok',
      agent_id: this.config.agentId,
      hub_connected: this.hub?.connected ?? false,
      disk_full: this.diskFull?.isFull ?? false,
      alarms: this.alarms.list().map((a) => a.code),
    };
  }

  private every(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setInterval(() => {
      try {
        fn();
      } catch (e) {
        this.log.error({ err: e }, 'periodic task failed');
      }
    }, ms);
    this.timers.push(t);
    return t;
  }

  /** The hub's config may carry settings; they override the local file until the next config. */
  private applySettings(
    settings: { live_interval_s?: number; forecast_interval_s?: number } | undefined,
  ): void {
    const live = settings?.live_interval_s ?? this.config.liveIntervalS;
    if (live !== this.liveIntervalS && this.liveTimer) {
      clearInterval(this.liveTimer);
      this.timers = this.timers.filter((t) => t !== this.liveTimer);
      this.liveTimer = this.every(live * 1000, () => this.sendLive());
    }
    this.liveIntervalS = live;
    this.forecastIntervalS = settings?.forecast_interval_s ?? this.config.forecastIntervalS;
  }

  /** Graceful stop: stop accepting, flush and commit, close minutes, say offline, close. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.broker?.stop().catch((e) => this.log.error({ err: e }, 'broker stop failed'));
    this.broker = null;
    this.ingest?.commit.close();
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
    await this.stopCheckpointer?.();
    this.stopCheckpointer = null;
    this.db?.close();
    this.db = null;
    this.log.info('agent stopped');
    this.log.flush?.();
  }
}
