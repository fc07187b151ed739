import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per hub instance (tests run several hubs in one process). Names follow Prometheus conventions. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  return {
    registry,
    ingestItems: new Counter({
      name: 'cityflow_hub_ingest_items_total',
      help: 'sequenced items by outcome',
      labelNames: ['stream', 'outcome'],
      registers: r,
    }),
    ingestMessages: new Counter({
      name: 'cityflow_hub_ingest_messages_total',
      help: 'uplink MQTT messages by stream',
      labelNames: ['stream'],
      registers: r,
    }),
    ingestLag: new Histogram({
      name: 'cityflow_hub_ingest_lag_seconds',
      help: 'data time (end of the summarised minute / snapshot ts) to stored',
      labelNames: ['stream'],
      buckets: [1, 5, 15, 30, 60, 90, 120, 300, 900, 3600],
      registers: r,
    }),
    acks: new Counter({
      name: 'cityflow_hub_acks_total',
      help: 'acks published',
      labelNames: ['stream'],
      registers: r,
    }),
    invalid: new Counter({
      name: 'cityflow_hub_invalid_messages_total',
      help: 'uplink messages refused',
      labelNames: ['code'],
      registers: r,
    }),
    dbErrors: new Counter({
      name: 'cityflow_hub_db_errors_total',
      help: 'database errors',
      labelNames: ['op'],
      registers: r,
    }),
    cache: new Counter({
      name: 'cityflow_hub_cache_requests_total',
      help: 'cache lookups',
      labelNames: ['result'],
      registers: r,
    }),
    wsClients: new Gauge({
      name: 'cityflow_hub_ws_clients',
      help: 'connected WebSocket clients',
      registers: r,
    }),
    wsDropped: new Counter({
      name: 'cityflow_hub_ws_dropped_total',
      help: 'slow WebSocket clients dropped',
      registers: r,
    }),
    cycleDuration: new Histogram({
      name: 'cityflow_hub_cycle_seconds',
      help: 'cycle durations',
      labelNames: ['cycle'],
      registers: r,
    }),
    cycleFailures: new Counter({
      name: 'cityflow_hub_cycle_failures_total',
      help: 'prediction/reroute cycle steps that failed (the cycle retries at its next period)',
      labelNames: ['cycle'],
      registers: r,
    }),
    meanPredictedCongestion: new Gauge({
      name: 'cityflow_hub_mean_predicted_congestion',
      help: 'mean T+30 congestion score',
      registers: r,
    }),
    co2Gain: new Gauge({
      name: 'cityflow_hub_reroute_co2_gain_kg_per_hour',
      help: 'estimated CO2 gain of current reroutes',
      registers: r,
    }),
    agentsOnline: new Gauge({
      name: 'cityflow_hub_agents_online',
      help: 'agents whose last status is online',
      registers: r,
    }),
    brokerRefused: new Counter({
      name: 'cityflow_hub_broker_refused_total',
      help: 'embedded broker refusals (connections, oversized or malformed packets, publish rate, retained, logins), by reason',
      labelNames: ['reason'],
      registers: r,
    }),
    httpErrors: new Counter({
      name: 'cityflow_hub_http_errors_total',
      help: 'HTTP 5xx answers',
      registers: r,
    }),
    quarantined: new Counter({
      name: 'cityflow_hub_quarantine_items_total',
      help: 'dead letters written, by code',
      labelNames: ['code'],
      registers: r,
    }),
    quarantineFailed: new Counter({
      name: 'cityflow_hub_quarantine_write_failures_total',
      help: 'dead letters that could not be written (database error; the message is not acked)',
      registers: r,
    }),
    quarantineEvicted: new Counter({
      name: 'cityflow_hub_quarantine_evicted_total',
      help: 'dead letters deleted, oldest first, to keep the quarantine under its byte bound',
      registers: r,
    }),
    ingestShed: new Counter({
      name: 'cityflow_hub_ingest_shed_total',
      help: 'uplink messages not taken because an ingest queue was full (not acked: the agent resends)',
      labelNames: ['bound'],
      registers: r,
    }),
    ingestQueuedBytes: new Gauge({
      name: 'cityflow_hub_ingest_queued_bytes',
      help: 'uplink payload bytes waiting in the ingest queues',
      registers: r,
    }),
  };
}
export type HubMetrics = ReturnType<typeof createMetrics>;
