import { Gauge, type Counter, type Registry } from 'prom-client';
import type { Queryable } from './db/db.js';

/** Default cap on the agents exported one series each (CITYFLOW_METRICS_MAX_AGENTS). */
export const FLEET_METRICS_MAX_AGENTS_DEFAULT = 1000;

interface FleetRow {
  agent_id: string;
  online: boolean;
  last_seen: Date | null;
  backlog: number | null;
  clock_skew_s: number | null;
  alarms: number;
}
interface FleetSnapshot {
  ok: boolean;
  rows: FleetRow[];
  total: number;
}

// A scrape asks each gauge in turn: they share one query per scrape.
const SNAPSHOT_REUSE_MS = 1000;

/**
 * Per-agent gauges from the agents' health and status messages, so a cluster that cannot scrape the
 * Pis still sees the fleet. They are read from the `agents` table at scrape time, not from what this
 * replica happened to receive: behind shared subscriptions each replica sees only part of the health
 * messages, while the table is the same for all, so every replica exports the same fleet view
 * (aggregate with `max by (agent_id)`). Labels: `agent_id` only; at most `maxAgents` agents (by id, so
 * the exported set stays stable), the rest counted in `cityflow_hub_fleet_agents_not_exported`.
 */
export function registerFleetMetrics(
  registry: Registry,
  db: Queryable,
  maxAgents: number,
  dbErrors: Counter<'op'>,
): void {
  let last: { at: number; snap: Promise<FleetSnapshot> } | null = null;
  const snapshot = (): Promise<FleetSnapshot> => {
    if (last && Date.now() - last.at < SNAPSHOT_REUSE_MS) return last.snap;
    last = { at: Date.now(), snap: readFleet(db, maxAgents, dbErrors) };
    return last.snap;
  };
  const r = [registry];
  const perAgent = (name: string, help: string, value: (a: FleetRow) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['agent_id'],
      registers: r,
      async collect() {
        const s = await snapshot();
        this.reset();
        for (const a of s.rows) {
          const v = value(a);
          if (v !== null) this.set({ agent_id: a.agent_id }, v);
        }
      },
    });
  perAgent('cityflow_hub_agent_online', '1 when the last status of the agent is online', (a) =>
    a.online ? 1 : 0,
  );
  perAgent(
    'cityflow_hub_agent_last_seen_timestamp_seconds',
    'unix time of the last status or health message of the agent',
    (a) => (a.last_seen ? a.last_seen.getTime() / 1000 : null),
  );
  perAgent(
    'cityflow_hub_agent_backlog',
    'outbox items the agent has not sent yet (last health)',
    (a) => a.backlog,
  );
  perAgent(
    'cityflow_hub_agent_clock_skew_seconds',
    'agent clock minus reference clock (last health; absent when unknown)',
    (a) => a.clock_skew_s,
  );
  perAgent('cityflow_hub_agent_alarms', 'active alarms of the agent (last health)', (a) => a.alarms);
  new Gauge({
    name: 'cityflow_hub_fleet_agents',
    help: 'agents known to the hub',
    registers: r,
    async collect() {
      const s = await snapshot();
      if (s.ok) this.set(s.total);
    },
  });
  new Gauge({
    name: 'cityflow_hub_fleet_agents_not_exported',
    help: 'agents left out of the per-agent series by CITYFLOW_METRICS_MAX_AGENTS',
    registers: r,
    async collect() {
      const s = await snapshot();
      if (s.ok) this.set(Math.max(0, s.total - s.rows.length));
    },
  });
  new Gauge({
    name: 'cityflow_hub_database_up',
    help: '1 when the fleet query of this scrape succeeded',
    registers: r,
    async collect() {
      this.set((await snapshot()).ok ? 1 : 0);
    },
  });
}

async function readFleet(db: Queryable, maxAgents: number, dbErrors: Counter<'op'>): Promise<FleetSnapshot> {
  try {
    const rows = await db.query<FleetRow>(
      `SELECT agent_id, online, last_seen, backlog, clock_skew_s,
              coalesce(jsonb_array_length(alarms), 0)::int AS alarms
       FROM agents ORDER BY agent_id LIMIT $1`,
      [maxAgents],
    );
    const total = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM agents');
    return { ok: true, rows: rows.rows, total: total.rows[0]?.n ?? 0 };
  } catch {
    // A scrape must still answer when the database is down: the series vanish, database_up says why.
    dbErrors.inc({ op: 'fleet_metrics' });
    return { ok: false, rows: [], total: 0 };
  }
}
