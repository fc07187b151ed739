import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per agent instance (tests run several agents in one process). */
export function createMetrics() {
  const registry = new Registry();
  const r = [registry];
  return {
    registry,
    readings: new Counter({
      name: 'cityflow_agent_readings_total',
      help: 'Valid readings stored',
      registers: r,
    }),
    quarantined: new Counter({
      name: 'cityflow_agent_quarantined_total',
      help: 'Rejected messages kept in quarantine, by error code',
      labelNames: ['code'],
      registers: r,
    }),
    brokerRefused: new Counter({
      name: 'cityflow_agent_broker_refused_total',
      help: 'Local broker refusals (connections, oversized or malformed packets, publish rate, retained readings), by reason',
      labelNames: ['reason'],
      registers: r,
    }),
    dropped: new Counter({
      name: 'cityflow_agent_dropped_total',
      help: 'Items dropped for good under the outbox/raw-retention policy, by reason',
      labelNames: ['reason'],
      registers: r,
    }),
    commitSeconds: new Histogram({
      name: 'cityflow_agent_commit_seconds',
      help: 'Group commit duration (SQLite transaction incl. fsync)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers: r,
    }),
    commitBatch: new Histogram({
      name: 'cityflow_agent_commit_batch_size',
      help: 'Messages per group commit',
      buckets: [1, 10, 50, 100, 200, 500, 1000, 5000],
      registers: r,
    }),
    summaries: new Counter({
      name: 'cityflow_agent_summaries_total',
      help: 'Minute summaries queued',
      registers: r,
    }),
    forecasts: new Counter({
      name: 'cityflow_agent_forecasts_total',
      help: 'Forecast records queued',
      registers: r,
    }),
    sent: new Counter({
      name: 'cityflow_agent_uplink_items_sent_total',
      help: 'Items sent (incl. resends)',
      labelNames: ['stream'],
      registers: r,
    }),
    acked: new Counter({
      name: 'cityflow_agent_uplink_items_acked_total',
      help: 'Items covered by the hub watermark',
      labelNames: ['stream'],
      registers: r,
    }),
    resends: new Counter({
      name: 'cityflow_agent_uplink_resends_total',
      help: 'Resends from the watermark',
      labelNames: ['stream', 'reason'],
      registers: r,
    }),
    rejectedByHub: new Counter({
      name: 'cityflow_agent_rejected_by_hub_total',
      help: 'Items the hub rejected',
      labelNames: ['stream'],
      registers: r,
    }),
    parked: new Counter({
      name: 'cityflow_agent_parked_total',
      help: 'Rows parked after max tries',
      labelNames: ['stream'],
      registers: r,
    }),
    reconnects: new Counter({
      name: 'cityflow_agent_hub_reconnects_total',
      help: 'Reconnect attempts to the hub',
      registers: r,
    }),
    hubConnected: new Gauge({
      name: 'cityflow_agent_hub_connected',
      help: '1 when connected to the hub',
      registers: r,
    }),
    outboxPending: new Gauge({
      name: 'cityflow_agent_outbox_pending',
      help: 'Unacked outbox items',
      labelNames: ['stream'],
      registers: r,
    }),
    outboxBytes: new Gauge({
      name: 'cityflow_agent_outbox_bytes',
      help: 'Bytes of unacked outbox items',
      registers: r,
    }),
    outboxOldestAge: new Gauge({
      name: 'cityflow_agent_outbox_oldest_age_seconds',
      help: 'Age of the oldest unacked item',
      registers: r,
    }),
    clockSkew: new Gauge({
      name: 'cityflow_agent_clock_skew_seconds',
      help: 'Agent clock minus hub clock',
      registers: r,
    }),
    diskFull: new Gauge({
      name: 'cityflow_agent_disk_full',
      help: '1 while the data directory is full (SQLITE_FULL): readings are not acknowledged',
      registers: r,
    }),
    diskFullRejected: new Counter({
      name: 'cityflow_agent_disk_full_rejected_total',
      help: 'Messages refused (no PUBACK, sensors retry) because a commit hit SQLITE_FULL',
      registers: r,
    }),
    alarms: new Gauge({
      name: 'cityflow_agent_alarm',
      help: '1 for each active alarm, by code',
      labelNames: ['code'],
      registers: r,
    }),
    clockSynced: new Gauge({
      name: 'cityflow_agent_clock_synced',
      help: '1 when the agent heard the hub time in the last hour',
      registers: r,
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** Gauges that mirror the status document (refreshed whenever status is computed). */
export function updateGauges(
  m: Metrics,
  s: Record<string, unknown>,
  clock: { synced: boolean; skew_s: number | null },
): void {
  const streams = s.streams as Record<string, { pending: number }>;
  m.outboxPending.set({ stream: 'summary' }, streams.summary?.pending ?? 0);
  m.outboxPending.set({ stream: 'forecast' }, streams.forecast?.pending ?? 0);
  m.outboxBytes.set(s.outbox_bytes as number);
  m.outboxOldestAge.set((s.outbox_oldest_age_s as number | null) ?? 0);
  m.clockSynced.set(clock.synced ? 1 : 0);
  if (clock.skew_s !== null) m.clockSkew.set(clock.skew_s);
}
