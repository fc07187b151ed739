import { type AgentAlarm, type AgentHealth, SEQUENCED_STREAMS } from '@cityflow/protocol';
import { AGENT_VERSION } from '../version.js';
import { C, type MetaStore } from '../storage/meta-store.js';
import type { OutboxStore } from '../storage/outbox-store.js';

export const RUNTIME_KEY = 'runtime';
export interface RuntimeState {
  pid: number;
  hub_connected: boolean;
  hub_url: string | null;
  mqtt_url: string;
  http_url: string;
  clock: { mode: string; synced: boolean; skew_s: number | null };
  /** the running agent's alarms at its last save (what `status --data-dir` shows) */
  alarms?: AgentAlarm[];
  updated_ms: number;
}

/**
 * The status document, computed from the SQLite file only, so `cityflow-agent status --data-dir`
 * works whether or not the agent runs. The running agent overlays its live fields.
 */
export function statusFromStore(
  meta: MetaStore,
  outbox: OutboxStore,
  nowMs: number,
  /** the running agent passes what its slice holds (parsing the stored slice on every probe is not O(1)) */
  sliceInfo?: { issued_at: string; sensors: number } | null,
): Record<string, unknown> {
  const counters = meta.counters();
  const byPrefix = (p: string) =>
    Object.fromEntries(
      Object.entries(counters)
        .filter(([k]) => k.startsWith(p))
        .map(([k, v]) => [k.slice(p.length), v]),
    );
  let pending = 0;
  let bytes = 0;
  let oldest: number | null = null;
  const streams: Record<string, unknown> = {};
  for (const s of SEQUENCED_STREAMS) {
    const st = outbox.stats(s);
    pending += st.pending;
    bytes += st.bytes;
    if (st.oldestMs !== null) oldest = oldest === null ? st.oldestMs : Math.min(oldest, st.oldestMs);
    streams[s] = {
      pending: st.pending,
      bytes: st.bytes,
      watermark: st.watermark,
      highest_seq: st.highestSeq,
      incarnation: outbox.incarnation(s),
    };
  }
  const runtime = meta.get<RuntimeState>(RUNTIME_KEY);
  const slice =
    sliceInfo === undefined
      ? meta.get<{
          issued_at: string;
          network: { features: Array<{ properties?: { kind?: string } }> };
        }>('network_slice')
      : null;
  const network_slice =
    sliceInfo !== undefined
      ? sliceInfo
      : slice
        ? {
            issued_at: slice.issued_at,
            sensors: slice.network.features.filter((f) => f.properties?.kind === 'sensor').length,
          }
        : null;
  return {
    agent_id: meta.get<string>('agent_id') ?? null,
    readings_total: counters[C.readings] ?? 0,
    readings_flagged_total: counters[C.flagged] ?? 0,
    readings_late_total: counters[C.late] ?? 0,
    readings_resent_total: counters[C.resent] ?? 0,
    quarantined_total: counters[C.quarantined] ?? 0,
    quarantined_by_code: byPrefix('quarantined.'),
    outbox_pending: pending,
    outbox_bytes: bytes,
    outbox_oldest_age_s: oldest === null ? null : Math.max(0, Math.round((nowMs - oldest) / 1000)),
    streams,
    dropped: byPrefix('dropped.'),
    parked_total: outbox.parkedCount(),
    rejected_by_hub_total: counters[C.rejectedByHub] ?? 0,
    network_slice,
    hub_connected: runtime?.hub_connected ?? false,
    clock: runtime?.clock ?? null,
    hub_url: runtime?.hub_url ?? null,
    mqtt_url: runtime?.mqtt_url ?? null,
    http_url: runtime?.http_url ?? null,
    pid: runtime?.pid ?? null,
    alarms: runtime?.alarms ?? [],
  };
}

/** The periodic health message (QoS 0 on `up/health`), from the status document. */
export function healthMessage(
  agentId: string,
  s: Record<string, unknown>,
  clock: AgentHealth['clock'],
  startedMs: number,
): AgentHealth {
  return {
    v: 1,
    agent_id: agentId,
    stream: 'health',
    ts: new Date().toISOString(),
    version: AGENT_VERSION,
    uptime_s: Math.round((Date.now() - startedMs) / 1000),
    rss_bytes: process.memoryUsage.rss(),
    backlog: s.outbox_pending as number,
    oldest_unsent_age_s: s.outbox_oldest_age_s as number | null,
    readings_total: s.readings_total as number,
    quarantined_total: s.quarantined_total as number,
    dropped: s.dropped as Record<string, number>,
    clock,
    alarms: (s.alarms as AgentHealth['alarms']) ?? [],
  };
}
