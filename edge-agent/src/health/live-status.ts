import type { AgentAlarm } from '@cityflow/protocol';
import type { AgentClock } from '../clock.js';
import type { AgentConfig } from '../config.js';
import type { SliceState } from '../downlink/slice.js';
import type { LocalForecaster } from '../predict/local-forecaster.js';
import { redactUrl } from '../redact.js';
import type { DiskFullGuard } from '../storage/disk-full.js';
import type { MetaStore } from '../storage/meta-store.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import type { HubLink } from '../uplink/hub-link.js';
import { AGENT_VERSION } from '../version.js';
import type { Alarms } from './alarms.js';
import { memoryFields } from './memory.js';
import { type Metrics, updateGauges } from './metrics.js';
import { type RuntimeState, statusFromStore } from './status.js';

/** The running agent's parts its status is read from (the file's status overlaid with live fields). */
export interface LiveStatusSources {
  config: AgentConfig;
  meta: MetaStore;
  outbox: OutboxStore;
  slice: SliceState;
  clock: AgentClock;
  alarms: Alarms;
  metrics: Metrics;
  diskFull: DiskFullGuard;
  hub: HubLink | null;
  forecaster: LocalForecaster | undefined;
  mqttUrl: string;
  httpUrl: string;
  startedMs: number;
}

/** The running agent's status document (/status, `status --json`): the stored one plus live fields. */
export function liveStatus(p: LiveStatusSources, gc: boolean): Record<string, unknown> {
  const issuedAt = p.slice.issuedAt;
  const sensors = p.slice.sensors();
  const s = statusFromStore(
    p.meta,
    p.outbox,
    Date.now(),
    issuedAt && sensors ? { issued_at: issuedAt, sensors: sensors.size } : null,
  );
  const clock = p.clock.state();
  const alarms = refreshAlarms(p.alarms, p.metrics, clock, s.parked_total as number);
  updateGauges(p.metrics, s, clock);
  return {
    ...s,
    alarms,
    disk_full: p.diskFull.isFull,
    disk_full_rejected_total: p.diskFull.rejected,
    agent_id: p.config.agentId,
    running: true,
    version: AGENT_VERSION,
    uptime_s: Math.round((Date.now() - p.startedMs) / 1000),
    hub_connected: p.hub?.connected ?? false,
    hub_url: hubUrl(p.config),
    hub_last_error: p.hub?.lastError ?? null,
    hub_reconnects: p.hub?.reconnects ?? 0,
    clock,
    mqtt_url: p.mqttUrl,
    http_url: p.httpUrl,
    data_dir: p.config.dataDir,
    forecast_model: p.forecaster?.modelVersion ?? null,
    ...memoryFields(gc),
    pid: process.pid,
  };
}

/** What the running agent saves for `status --data-dir` (read while it runs, or after it stopped). */
export function runtimeState(p: LiveStatusSources): RuntimeState {
  return {
    pid: process.pid,
    hub_connected: p.hub?.connected ?? false,
    hub_url: hubUrl(p.config),
    mqtt_url: p.mqttUrl,
    http_url: p.httpUrl,
    clock: p.clock.state(),
    alarms: p.alarms.list(),
    updated_ms: Date.now(),
  };
}

/** `/health`: constant work whatever the backlog (a probe flood must not delay PUBACKs). */
export function probeDocument(p: Pick<LiveStatusSources, 'config' | 'hub' | 'diskFull' | 'alarms'>) {
  return {
    status: 'ok',
    agent_id: p.config.agentId,
    hub_connected: p.hub?.connected ?? false,
    disk_full: p.diskFull?.isFull ?? false,
    alarms: p.alarms.list().map((a) => a.code),
  };
}

/** The alarms derived from state (clock, parked rows) are refreshed whenever status is read. */
function refreshAlarms(
  alarms: Alarms,
  metrics: Metrics,
  clock: { mode: string; synced: boolean },
  parked: number,
): AgentAlarm[] {
  alarms.set(
    'CF_CLOCK_UNSYNCED',
    clock.mode === 'wall' && !clock.synced,
    'no hub time heard in the last hour: reading timestamps are not checked against a reference',
  );
  alarms.set('CF_PARKED_ROWS', parked > 0, `${parked} outbox rows parked after too many tries`);
  const list = alarms.list();
  metrics.alarms.reset();
  for (const a of list) metrics.alarms.set({ code: a.code }, 1);
  return list;
}

/** The hub URL as shown: never its password. */
const hubUrl = (cfg: AgentConfig) => (cfg.hubUrl ? redactUrl(cfg.hubUrl) : null);
