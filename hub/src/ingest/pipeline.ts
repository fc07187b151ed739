import type { AgentInfo, Network, SequencedStream } from '@cityflow/protocol';
import type { Logger } from 'pino';
import type { HubClock } from '../clock.js';
import type { Db } from '../db/db.js';
import type { ResponseCache } from '../live/cache.js';
import type { LiveBus } from '../live/bus.js';
import type { HubMetrics } from '../metrics.js';
import { getAgent, setAgentHealth, setAgentStatus, touchAgent } from '../store/agents.js';
import { watermarksOf } from '../store/ingest-store.js';
import { QUARANTINE_LIMITS } from '../store/quarantine-store.js';
import { upsertRoadLive } from '../store/traffic.js';
import { Acker, type Publish } from './ack.js';
import { Authorizer } from './authorize.js';
import { decode } from './decode.js';
import { type EnvelopeOf, type SequencedEnvelope, envelopeValidators } from './envelope.js';
import { Publisher } from './publish.js';
import { Quarantine } from './quarantine.js';
import { BoundedQueues, INGEST_QUEUE_DEFAULTS, type QueueLimits } from './queue.js';
import { type Refusal, refuse } from './refusal.js';
import { type Route, route, routeKey } from './route.js';
import { storeBatch } from './store.js';
import { DataClockFeed, checkTime } from './time-bounds.js';
import { checkItems } from './validate.js';

export { FUTURE_TOLERANCE_S } from './time-bounds.js';

export interface IngestDeps {
  db: Db;
  net: Network;
  clock: HubClock;
  metrics: HubMetrics;
  bus: LiveBus;
  cache: ResponseCache;
  log: Logger;
  publish: Publish;
  /** re-publish config (and acks) for an agent that came online */
  onAgentOnline(agentId: string): Promise<void>;
  /** ingest queue bounds (payload bytes); defaults in INGEST_QUEUE_DEFAULTS */
  queue?: Partial<QueueLimits>;
  /** quarantine byte bound (default QUARANTINE_LIMITS.defaultMaxTotalBytes) */
  quarantineMaxBytes?: number;
}

/**
 * Uplink handling as a pipeline: route → queue → decode → envelope → authorize → validate → store →
 * ack → publish, each stage in its own file. Sequenced batches are stored in one transaction and
 * acked only after COMMIT; a database failure means no ack, so the agent keeps its rows and resends
 * (back-pressure without loss). Messages of one agent stream are processed in order.
 */
export class Ingest {
  private readonly queues: BoundedQueues;
  private readonly authorizer: Authorizer;
  private readonly quarantine: Quarantine;
  private readonly acker: Acker;
  private readonly publisher: Publisher;

  constructor(private readonly d: IngestDeps) {
    this.queues = new BoundedQueues({ ...INGEST_QUEUE_DEFAULTS, ...d.queue }, (n) =>
      d.metrics.ingestQueuedBytes.set(n),
    );
    this.authorizer = new Authorizer(d.net);
    this.quarantine = new Quarantine({
      db: d.db,
      metrics: d.metrics,
      log: d.log,
      maxBytes: d.quarantineMaxBytes ?? QUARANTINE_LIMITS.defaultMaxTotalBytes,
    });
    this.acker = new Acker(d);
    this.publisher = new Publisher({
      feed: new DataClockFeed(d.clock),
      metrics: d.metrics,
      bus: d.bus,
      cache: d.cache,
    });
  }

  handle(topic: string, payload: Buffer): void {
    const r = route(topic);
    if (!r) return;
    const shed = this.queues.push(
      routeKey(r),
      r.agentId,
      payload.length,
      () =>
        this.process(r, payload).catch((e) =>
          this.d.log.error(
            { err: (e as Error).message, topic, code: 'CF_DB_ERROR' },
            'uplink handling failed',
          ),
        ),
      r.stream === 'status',
    );
    if (shed) {
      this.d.metrics.ingestShed.inc({ bound: shed });
      this.d.log.warn(
        { agent_id: r.agentId, stream: r.stream, bound: shed },
        'ingest queue full: message shed (not acked)',
      );
    }
  }

  /** Resolves when every message received so far is processed (tests, graceful stop). */
  idle(): Promise<void> {
    return this.queues.idle();
  }

  /** Keeps the quarantine under its byte bound (the retention cycle calls it too). */
  enforceQuarantine(): Promise<number> {
    return this.quarantine.enforce();
  }

  private async process(r: Route, payload: Buffer): Promise<void> {
    this.d.metrics.ingestMessages.inc({ stream: r.stream });
    const decoded = decode(payload);
    if (!decoded.ok) return this.quarantine.refuse(r, decoded.refusal);
    const v = envelopeValidators[r.stream](decoded.value);
    if (!v.ok) return this.quarantine.refuse(r, refuse('CF_INVALID_MESSAGE', v.errors, decoded.value));
    const mismatch = this.authorizer.envelope(r.agentId, v.value as { agent_id: string });
    if (mismatch) return this.quarantine.refuse(r, refuse('CF_INVALID_MESSAGE', mismatch, decoded.value));
    switch (r.stream) {
      case 'summary':
      case 'forecast':
        return this.sequenced(r, r.stream, v.value as SequencedEnvelope);
      case 'live':
        return this.live(r, v.value as EnvelopeOf<'live'>);
      case 'health': {
        const h = v.value as EnvelopeOf<'health'>;
        await setAgentHealth(this.d.db, r.agentId, h.backlog, h.clock.skew_s, h.version, h.alarms);
        return this.announce(r.agentId);
      }
      case 'status': {
        const s = v.value as EnvelopeOf<'status'>;
        const online = s.state === 'online';
        await setAgentStatus(this.d.db, r.agentId, online, s.ts, s.version);
        const n = await this.d.db.query<{ n: number }>('SELECT count(*)::int AS n FROM agents WHERE online');
        this.d.metrics.agentsOnline.set(n.rows[0]?.n ?? 0);
        // The embedded broker keeps retained messages in memory only: re-send config and acks.
        if (online) await this.d.onAgentOnline(r.agentId);
        return this.announce(r.agentId);
      }
      case 'diag':
        // The request may have come through another replica: answer over the bus.
        this.d.bus.publish({ type: 'diag', data: v.value as EnvelopeOf<'diag'> });
        return;
    }
  }

  /**
   * Live snapshots are best effort: roads outside the agent's slice and snapshots dated beyond the
   * clock bound are refused (a snapshot dated 2099 would otherwise pin its road forever).
   */
  private async live(r: Route, snap: EnvelopeOf<'live'>): Promise<void> {
    const errors: string[] = [];
    const roads = snap.roads.filter((x, i) => {
      const bad = !this.authorizer.ownsRoad(r.agentId, x.road_id)
        ? `roads.${i}.road_id: ${x.road_id} is not in the slice of agent ${r.agentId}`
        : checkTime(this.d.clock, `roads.${i}.ts`, x.ts);
      if (bad) errors.push(bad);
      return !bad;
    });
    // Per-loop detail speaks for sensors too: a loop of another agent or road is dropped, not priced.
    for (const [i, x] of roads.entries()) {
      const own = x.by_sensor?.filter((l) => this.authorizer.ownsSensorOn(r.agentId, x.road_id, l.sensor_id));
      if (!x.by_sensor || own?.length === x.by_sensor.length) continue;
      errors.push(
        `roads.${i}.by_sensor: ${x.by_sensor.length - own!.length} loop(s) not of agent ${r.agentId} on ${x.road_id}`,
      );
      roads[i] = { ...x, by_sensor: own };
    }
    if (errors.length) await this.quarantine.refuse(r, refusalOf(errors, snap));
    if (!roads.length) return;
    await upsertRoadLive(this.d.db, r.agentId, roads);
    await this.publisher.live(snap.ts, roads);
  }

  private async sequenced(r: Route, stream: SequencedStream, env: SequencedEnvelope): Promise<void> {
    const start = Date.now();
    const incarnation = env.incarnation ?? '';
    const { checked, unackable } = checkItems(stream, r.agentId, env.items, {
      clock: this.d.clock,
      authorizer: this.authorizer,
    });
    for (const u of unackable)
      await this.quarantine.refuse(r, refuse('CF_INVALID_MESSAGE', u.errors, u.raw), incarnation);
    let out: Awaited<ReturnType<typeof storeBatch>>;
    try {
      out = await storeBatch(this.d.db, {
        agentId: r.agentId,
        incarnation,
        stream,
        checked,
        skipped: env.skipped ?? [],
      });
    } catch (e) {
      // No ack: the agent keeps the rows and resends after its timeout; nothing is lost.
      this.d.metrics.dbErrors.inc({ op: `ingest_${stream}` });
      this.d.log.error(
        { agent_id: r.agentId, stream, err: (e as Error).message, code: 'CF_DB_ERROR' },
        'batch not stored; not acked',
      );
      return;
    }
    const m = this.d.metrics.ingestItems;
    m.inc({ stream, outcome: 'stored' }, out.stored);
    m.inc({ stream, outcome: 'duplicate' }, out.duplicates);
    m.inc({ stream, outcome: 'rejected' }, out.rejected.length);
    for (const x of out.rejected) this.quarantine.counted(x.code, out.quarantinedBytes / out.rejected.length);
    await this.acker.ack(r.agentId, incarnation, stream, out.watermark, out.maxSeq, out.rejected);
    void touchAgent(this.d.db, r.agentId).catch(() => undefined);
    const accepted = checked.filter((c) => c.value && !out.rejected.some((x) => x.seq === c.seq));
    if (stream === 'summary')
      await this.publisher.summaries(
        accepted.map((c) => (c.value as { minute: string }).minute),
        start,
        out.stored > 0,
      );
    else await this.publisher.forecasts(out.stored);
  }

  private async announce(agentId: string) {
    const a: AgentInfo | null = await getAgent(this.d.db, agentId);
    if (a) this.d.bus.publish({ type: 'agent', data: a });
  }

  /** Re-publishes the stored watermarks of an agent (on its online status). */
  async republishAcks(agentId: string): Promise<void> {
    for (const w of await watermarksOf(this.d.db, agentId))
      await this.acker.ack(agentId, w.incarnation, w.stream, w.watermark, w.maxSeq);
  }

  /** Publishes an ack (tests and tools). */
  ack(agentId: string, stream: SequencedStream, watermark: number, incarnation = ''): Promise<void> {
    return this.acker.ack(agentId, incarnation, stream, watermark, watermark);
  }
}

function refusalOf(errors: string[], snap: unknown): Refusal {
  const code = errors.some((e) => e.includes('ahead of the hub')) ? 'CF_TS_FUTURE' : 'CF_NOT_AUTHORIZED';
  return refuse(code, errors, snap);
}
