import {
  type Ack,
  type AgentInfo,
  ForecastBatchSchema,
  type ForecastRecord,
  ForecastRecordSchema,
  type Network,
  type SequencedStream,
  SummaryBatchSchema,
  type SummaryRecord,
  SummaryRecordSchema,
  type Validated,
  compileValidator,
  parseTopic,
  topics,
  validateAgentHealth,
  validateAgentStatus,
  validateDiagResponse,
  validateLiveSnapshot,
} from '@cityflow/protocol';
import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { HubClock } from '../clock.js';
import type { Db } from '../db/db.js';
import type { ResponseCache } from '../live/cache.js';
import type { LiveBus } from '../live/bus.js';
import type { HubMetrics } from '../metrics.js';
import { getAgent, setAgentHealth, setAgentStatus, touchAgent } from '../store/agents.js';
import {
  type Rejection,
  insertForecasts,
  insertSummaries,
  storeSequenced,
  watermarksOf,
} from '../store/ingest-store.js';
import { upsertRoadLive } from '../store/traffic.js';

/** Items stamped further ahead of the hub's wall clock are rejected (CF_TS_FUTURE) in `wall` mode. */
export const FUTURE_TOLERANCE_S = 300;

// The envelope is validated first, then each item, so one bad item does not refuse its whole batch.
const envelope = <S extends typeof SummaryBatchSchema | typeof ForecastBatchSchema>(schema: S) =>
  compileValidator(
    Type.Object({ ...schema.properties, items: Type.Array(Type.Unknown(), { maxItems: 5000 }) }),
  );
const validateSummaryEnvelope = envelope(SummaryBatchSchema);
const validateForecastEnvelope = envelope(ForecastBatchSchema);
const validateSummaryRecord = compileValidator(SummaryRecordSchema);
const validateForecastRecord = compileValidator(ForecastRecordSchema);

interface Envelope {
  agent_id: string;
  items: unknown[];
  skipped?: Array<[number, number]>;
}

export interface IngestDeps {
  db: Db;
  net: Network;
  clock: HubClock;
  metrics: HubMetrics;
  bus: LiveBus;
  cache: ResponseCache;
  log: Logger;
  publish(topic: string, payload: unknown, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /** re-publish config (and acks) for an agent that came online */
  onAgentOnline(agentId: string): Promise<void>;
}

/**
 * Uplink handling. Sequenced batches are stored in one transaction and acked only after COMMIT; a
 * database failure means no ack, so the agent keeps its rows and resends (back-pressure without loss).
 * Messages of one agent stream are processed in order; different agents run concurrently.
 */
export class Ingest {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly d: IngestDeps) {}

  handle(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t || (t.kind !== 'uplink' && t.kind !== 'status')) return;
    const key = t.kind === 'uplink' ? `${t.agentId}/${t.stream}` : `${t.agentId}/status`;
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => this.process(t.agentId, t.kind === 'uplink' ? t.stream : 'status', payload))
      .catch((e) => this.d.log.error({ err: (e as Error).message, topic }, 'uplink handling failed'));
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Resolves when every message received so far is processed (tests, graceful stop). */
  async idle(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }

  private invalid(agentId: string, stream: string, code: string, errors: string[], payload: unknown) {
    this.d.metrics.invalid.inc({ code });
    this.d.log.warn(
      { agent_id: agentId, stream, code, errors: errors.slice(0, 5) },
      'uplink message refused',
    );
    void this.d.db
      .query(
        'INSERT INTO quarantine (agent_id, stream, code, message, payload) VALUES ($1, $2, $3, $4, $5::jsonb)',
        [
          agentId,
          stream,
          code,
          errors.slice(0, 20).join('; '),
          JSON.stringify(payload ?? null).slice(0, 65_536),
        ],
      )
      .catch(() => this.d.metrics.dbErrors.inc({ op: 'quarantine' }));
  }

  private async process(agentId: string, stream: string, payload: Buffer): Promise<void> {
    this.d.metrics.ingestMessages.inc({ stream });
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch (e) {
      return this.invalid(
        agentId,
        stream,
        'CF_INVALID_JSON',
        [`(root): ${(e as Error).message}`],
        payload.toString('utf8').slice(0, 1000),
      );
    }
    const idMismatch = (v: { agent_id: string }) =>
      v.agent_id !== agentId
        ? [`agent_id: ${JSON.stringify(v.agent_id)} differs from topic ${JSON.stringify(agentId)}`]
        : null;
    switch (stream) {
      case 'summary':
      case 'forecast': {
        const r = (stream === 'summary' ? validateSummaryEnvelope : validateForecastEnvelope)(value);
        if (!r.ok) return this.invalid(agentId, stream, 'CF_INVALID_MESSAGE', r.errors, value);
        const mm = idMismatch(r.value);
        if (mm) return this.invalid(agentId, stream, 'CF_INVALID_MESSAGE', mm, value);
        return stream === 'summary' ? this.summaries(r.value) : this.forecasts(r.value);
      }
      case 'live': {
        const r = validateLiveSnapshot(value);
        if (!r.ok) return this.invalid(agentId, stream, 'CF_INVALID_MESSAGE', r.errors, value);
        const roads = r.value.roads.filter((x) => this.d.net.roads.has(x.road_id));
        if (!roads.length) return;
        await upsertRoadLive(this.d.db, agentId, roads);
        for (const x of roads) this.d.clock.observe(Date.parse(x.ts));
        this.d.metrics.ingestLag.observe(
          { stream: 'live' },
          Math.max(0, (Date.now() - Date.parse(r.value.ts)) / 1000),
        );
        await this.d.cache.invalidate('live');
        for (const x of roads) {
          const { samples: _s, ...data } = x;
          this.d.bus.publish({ type: 'traffic', data });
        }
        return;
      }
      case 'health': {
        const r = validateAgentHealth(value);
        if (!r.ok) return this.invalid(agentId, stream, 'CF_INVALID_MESSAGE', r.errors, value);
        await setAgentHealth(
          this.d.db,
          agentId,
          r.value.backlog,
          r.value.clock.skew_s,
          r.value.version,
          r.value.alarms,
        );
        return this.announce(agentId);
      }
      case 'status': {
        const r = validateAgentStatus(value);
        if (!r.ok) return this.invalid(agentId, stream, 'CF_INVALID_MESSAGE', r.errors, value);
        const online = r.value.state === 'online';
        await setAgentStatus(this.d.db, agentId, online, r.value.ts, r.value.version);
        const n = await this.d.db.query<{ n: number }>('SELECT count(*)::int AS n FROM agents WHERE online');
        this.d.metrics.agentsOnline.set(n.rows[0]?.n ?? 0);
        // The embedded broker keeps retained messages in memory only: re-send config and acks.
        if (online) await this.d.onAgentOnline(agentId);
        return this.announce(agentId);
      }
      case 'diag': {
        const r = validateDiagResponse(value);
        if (!r.ok) return this.invalid(agentId, stream, 'CF_INVALID_MESSAGE', r.errors, value);
        // The request may have come through another replica: answer over the bus.
        this.d.bus.publish({ type: 'diag', data: r.value });
        return;
      }
    }
  }

  private async announce(agentId: string) {
    const a: AgentInfo | null = await getAgent(this.d.db, agentId);
    if (a) this.d.bus.publish({ type: 'agent', data: a });
  }

  /**
   * Splits a batch's items: the valid ones, typed, and a rejection per seq for the others (schema, a
   * time that is not real). An item without a usable seq cannot be acked: it is only quarantined.
   */
  private items<T extends { seq: number }>(
    b: Envelope,
    stream: SequencedStream,
    validate: (v: unknown) => Validated<T>,
    timeOf: (it: T) => string,
  ) {
    const items: T[] = [];
    const invalid = new Map<number, Rejection>();
    for (const [i, raw] of b.items.entries()) {
      const r = validate(raw);
      const errors = r.ok
        ? Number.isFinite(Date.parse(timeOf(r.value)))
          ? null
          : [`items.${i}: ${timeOf(r.value)} is not a real time`]
        : r.errors.map((e) => `items.${i}.${e}`);
      if (!errors) {
        items.push(r.ok ? r.value : (raw as T));
        continue;
      }
      const seq = (raw as { seq?: unknown } | null)?.seq;
      if (typeof seq === 'number' && Number.isInteger(seq) && seq >= 1 && !invalid.has(seq)) {
        invalid.set(seq, { seq, code: 'CF_INVALID_MESSAGE', message: errors.slice(0, 5).join('; ') });
        items.push(raw as T); // quarantined through the check below, never inserted
      } else this.invalid(b.agent_id, stream, 'CF_INVALID_MESSAGE', errors, raw);
    }
    return { items, invalid };
  }

  /**
   * What the hub refuses in a schema-valid item: a time beyond the hub clock + tolerance (wall mode), a
   * road outside the network, a sensor of the network that belongs to another agent.
   */
  private check =
    <T extends { seq: number; road_id: string; sensor_id?: string }>(
      agentId: string,
      invalid: Map<number, Rejection>,
      timeOf: (it: T) => string,
    ) =>
    (it: T): Rejection | null => {
      const bad = invalid.get(it.seq);
      if (bad) return bad;
      const reject = (code: string, message: string) => ({ seq: it.seq, code, message });
      const ahead = (Date.parse(timeOf(it)) - Date.now()) / 1000;
      if (this.d.clock.mode === 'wall' && ahead > FUTURE_TOLERANCE_S)
        return reject(
          'CF_TS_FUTURE',
          `${timeOf(it)} is ${Math.round(ahead)} s ahead of the hub clock (limit ${FUTURE_TOLERANCE_S} s)`,
        );
      if (!this.d.net.roads.has(it.road_id))
        return reject('CF_REJECTED_BY_HUB', `road_id ${it.road_id} is not a road of the network`);
      if (it.sensor_id !== undefined && this.d.net.uncoveredSensors.has(it.sensor_id))
        return reject(
          'CF_SENSOR_UNCOVERED',
          `sensor_id ${it.sensor_id} is covered by no agent in the network file`,
        );
      const owner = it.sensor_id === undefined ? undefined : this.d.net.sensors.get(it.sensor_id)?.agent_id;
      if (owner !== undefined && owner !== agentId)
        return reject('CF_NOT_AUTHORIZED', `sensor_id ${it.sensor_id} belongs to agent ${owner}`);
      return null;
    };

  private async summaries(b: Envelope) {
    const start = Date.now();
    const minute = (it: SummaryRecord) => it.minute;
    const { items, invalid } = this.items(b, 'summary', validateSummaryRecord, minute);
    const check = this.check(b.agent_id, invalid, minute);
    const out = await this.store(b.agent_id, 'summary', items, b.skipped ?? [], check, insertSummaries);
    if (!out) return;
    for (const it of items) {
      if (check(it)) continue; // a refused item does not move the data clock
      const end = Date.parse(it.minute) + 60_000;
      this.d.clock.observe(end);
      if (out.stored)
        this.d.metrics.ingestLag.observe({ stream: 'summary' }, Math.max(0, (start - end) / 1000));
    }
  }

  private async forecasts(b: Envelope) {
    const ts = (it: ForecastRecord) => it.ts;
    const { items, invalid } = this.items(b, 'forecast', validateForecastRecord, ts);
    const check = this.check(b.agent_id, invalid, ts);
    const out = await this.store(b.agent_id, 'forecast', items, b.skipped ?? [], check, insertForecasts);
    if (out?.stored) await this.d.cache.invalidate('predictions');
  }

  private async store<T extends { seq: number }>(
    agentId: string,
    stream: SequencedStream,
    items: T[],
    skipped: Array<[number, number]>,
    check: (it: T) => Rejection | null,
    insert: (
      tx: Parameters<Parameters<Db['transaction']>[0]>[0],
      agentId: string,
      items: T[],
    ) => Promise<number>,
  ) {
    let out: Awaited<ReturnType<typeof storeSequenced>>;
    try {
      out = await storeSequenced<T>(this.d.db, {
        agentId,
        stream,
        items,
        skipped,
        check,
        insert: (tx, xs: T[]) => insert(tx, agentId, xs),
      });
    } catch (e) {
      // No ack: the agent keeps the rows and resends after its timeout; nothing is lost.
      this.d.metrics.dbErrors.inc({ op: `ingest_${stream}` });
      this.d.log.error(
        { agent_id: agentId, stream, err: (e as Error).message, code: 'CF_DB_ERROR' },
        'batch not stored; not acked',
      );
      return null;
    }
    const m = this.d.metrics.ingestItems;
    m.inc({ stream, outcome: 'stored' }, out.stored);
    m.inc({ stream, outcome: 'duplicate' }, out.duplicates);
    m.inc({ stream, outcome: 'rejected' }, out.rejected.length);
    await this.ack(agentId, stream, out.watermark, out.rejected);
    void touchAgent(this.d.db, agentId).catch(() => undefined);
    return out;
  }

  async ack(
    agentId: string,
    stream: SequencedStream,
    watermark: number,
    rejected: Rejection[] = [],
  ): Promise<void> {
    const ack: Ack = { v: 1, agent_id: agentId, stream, watermark, hub_ts: new Date().toISOString() };
    if (rejected.length) ack.rejected = rejected.slice(0, 1000);
    try {
      await this.d.publish(topics.ack(agentId, stream), ack, { qos: 1, retain: true });
      this.d.metrics.acks.inc({ stream });
    } catch (e) {
      this.d.log.warn(
        { agent_id: agentId, stream, err: (e as Error).message },
        'ack publish failed; the agent will resend',
      );
    }
  }

  /** Re-publishes the stored watermarks of an agent (on its online status). */
  async republishAcks(agentId: string): Promise<void> {
    for (const w of await watermarksOf(this.d.db, agentId)) await this.ack(agentId, w.stream, w.watermark);
  }
}
