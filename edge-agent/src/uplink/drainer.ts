import { type Ack, SEQUENCED_STREAMS, type SequencedStream, topics } from '@cityflow/protocol';
import type { Logger } from '../logger.js';
import type { OutboxStore } from '../storage/outbox-store.js';

export interface DrainerOptions {
  agentId: string;
  ratePerS: number;
  batchMaxItems: number;
  ackTimeoutMs: number;
  maxTries: number;
  /** How long to wait after connecting for the hub's retained ack before sending (wiped-agent rule). */
  ackWaitMs: number;
  tickMs: number;
}

export interface DrainerEvents {
  sent(stream: SequencedStream, items: number): void;
  acked(stream: SequencedStream, deleted: number): void;
  rejected(stream: SequencedStream, n: number): void;
  parked(stream: SequencedStream, n: number): void;
  resend(stream: SequencedStream, reason: 'timeout' | 'reconnect' | 'renumber'): void;
}

interface StreamState {
  /** seqs sent on this connection and not yet covered by the watermark */
  inflight: Set<number>;
  /** seqs whose batch the hub's broker PUBACKed on this connection (the hub has them) */
  delivered: Set<number>;
  /** the blocking seq an ack answered without covering, after its batch was delivered (a try) */
  answeredWithout: number;
  /** rows above this seq were created while connected ("live"): they go before the backlog */
  freshFrom: number;
  freshCursor: number;
  backCursor: number;
  gateUntil: number;
  lastProgressMs: number;
  skippedDirty: boolean;
}

type Publish = (topic: string, payload: string) => Promise<void>;

/**
 * Sends the sequenced streams to the hub and applies its acks.
 * - Order: rows created since the link came up ("live") first, then the backlog oldest first; every
 *   batch has ascending seqs. The hub's watermark is contiguous, so sending live rows early is safe.
 * - Rate: a token bucket of `ratePerS` items/s over all streams, so a city of agents coming back
 *   after an outage does not flatten the hub.
 * - Resend: on every (re)connect, by itself, from watermark+1; and when no ack advanced the
 *   watermark for `ackTimeoutMs`.
 * - Tries: a timeout counts a try for the row right above the watermark (the one blocking it) only
 *   when the hub ANSWERED after that row's batch was delivered — an ack arrived and did not cover it.
 *   Silence never counts: a hub whose database is down stops acking (back-pressure) and the agent
 *   keeps buffering. At `maxTries` answered-but-unresolved tries the row is parked and reported as
 *   skipped, so one poison row cannot wedge the stream forever; a flapping link never parks anything.
 */
export class Drainer {
  private readonly state = new Map<SequencedStream, StreamState>();
  private timer: NodeJS.Timeout | null = null;
  private tokens = 0;
  private lastTick = 0;
  private publish: Publish | null = null;

  constructor(
    private readonly outbox: OutboxStore,
    private readonly opts: DrainerOptions,
    private readonly events: DrainerEvents,
    private readonly log: Logger,
  ) {}

  private fresh(stream: SequencedStream, now: number): StreamState {
    const w = this.outbox.watermark(stream);
    return {
      inflight: new Set(),
      delivered: new Set(),
      answeredWithout: 0,
      freshFrom: this.outbox.highestSeq(stream),
      freshCursor: this.outbox.highestSeq(stream),
      backCursor: w,
      gateUntil: now + this.opts.ackWaitMs,
      lastProgressMs: now,
      skippedDirty: this.outbox.skipped(stream).length > 0,
    };
  }

  /** The link is up: start draining by itself (not on the next new message). */
  connected(publish: Publish): void {
    const now = Date.now();
    this.publish = publish;
    for (const s of SEQUENCED_STREAMS) {
      this.state.set(s, this.fresh(s, now));
      this.events.resend(s, 'reconnect');
    }
    this.tokens = Math.min(this.opts.batchMaxItems, this.opts.ratePerS);
    this.lastTick = now;
    if (!this.timer) this.timer = setInterval(() => this.tick(), this.opts.tickMs);
    this.tick();
  }

  /**
   * The broker sends retained messages right after the SUBACK, so an ack that has not arrived shortly
   * after it does not exist (a new agent): stop waiting for it.
   */
  subscribed(): void {
    const until = Date.now() + 250;
    for (const st of this.state.values()) st.gateUntil = Math.min(st.gateUntil, until);
  }

  disconnected(): void {
    this.publish = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.state.clear();
  }

  /** New rows or new skipped ranges exist: send now rather than at the next tick. */
  kick(skipped = false): void {
    if (skipped) for (const st of this.state.values()) st.skippedDirty = true;
    if (this.publish) setImmediate(() => this.tick());
  }

  onAck(ack: Ack): void {
    const stream = ack.stream;
    // The retained ack may belong to another incarnation of this agent (its database before a wipe or
    // re-image): its watermark says nothing about this database's rows.
    if (ack.incarnation !== undefined && ack.incarnation !== this.outbox.incarnation(stream)) {
      const st = this.state.get(stream);
      if (st) st.gateUntil = 0; // the ack this link waited for exists and is not ours: send
      return;
    }
    const forked = ack.watermark > this.outbox.highestSeq(stream);
    const before = this.outbox.watermark(stream);
    const { deleted, renumbered } = this.outbox.applyAck(stream, ack.watermark);
    if (ack.rejected?.length) this.events.rejected(stream, ack.rejected.length);
    const st = this.state.get(stream);
    if (forked) {
      this.log.warn(
        { stream, watermark: ack.watermark, renumbered, deleted },
        'hub remembers more than this database assigned (a restored image): new rows moved to a new incarnation',
      );
      this.events.resend(stream, 'renumber');
      if (st) this.state.set(stream, { ...this.fresh(stream, Date.now()), gateUntil: 0 });
    } else if (st) {
      st.gateUntil = 0;
      if (ack.watermark > before) {
        st.lastProgressMs = Date.now();
        for (const s of st.inflight) if (s <= ack.watermark) st.inflight.delete(s);
        for (const s of st.delivered) if (s <= ack.watermark) st.delivered.delete(s);
        if (st.backCursor < ack.watermark) st.backCursor = Math.min(ack.watermark, st.freshFrom);
      } else {
        // The hub answered without resolving the row blocking its watermark, which it already had.
        const blocking = this.outbox.watermark(stream) + 1;
        if (st.delivered.has(blocking)) st.answeredWithout = blocking;
      }
    }
    if (deleted) this.events.acked(stream, deleted);
    this.kick();
  }

  tick(): void {
    const publish = this.publish;
    if (!publish) return;
    const now = Date.now();
    this.tokens = Math.min(
      this.tokens + ((now - this.lastTick) / 1000) * this.opts.ratePerS,
      Math.max(this.opts.ratePerS, this.opts.batchMaxItems),
    );
    this.lastTick = now;
    for (const stream of SEQUENCED_STREAMS) {
      const st = this.state.get(stream);
      if (!st || now < st.gateUntil) continue;
      if (st.inflight.size > 0 && now - st.lastProgressMs > this.opts.ackTimeoutMs)
        this.timeout(stream, st, now);
      const maxInflight = this.opts.batchMaxItems * 20;
      while (this.tokens >= 1 && st.inflight.size < maxInflight) {
        const n = Math.min(this.opts.batchMaxItems, Math.floor(this.tokens));
        let rows = this.outbox.after(stream, st.freshCursor, n);
        let fresh = true;
        if (rows.length === 0) {
          fresh = false;
          rows = this.outbox.after(stream, st.backCursor, n).filter((r) => r.seq <= st.freshFrom);
        }
        if (rows.length === 0 && !st.skippedDirty) break;
        const last = rows[rows.length - 1];
        if (last) {
          if (fresh) st.freshCursor = last.seq;
          else st.backCursor = last.seq;
        }
        if (st.inflight.size === 0) st.lastProgressMs = now;
        for (const r of rows) st.inflight.add(r.seq);
        const skipped = this.outbox.skipped(stream);
        st.skippedDirty = false;
        this.tokens -= Math.max(1, rows.length);
        const payload = batchPayload(
          this.opts.agentId,
          stream,
          rows,
          skipped,
          this.outbox.incarnation(stream),
        );
        this.outbox.markSent(
          stream,
          rows.map((r) => r.seq),
        );
        const seqs = rows.map((r) => r.seq);
        publish(topics.uplink(this.opts.agentId, stream), payload).then(
          () => {
            for (const q of seqs) st.delivered.add(q);
          },
          (err: Error) => this.log.debug({ stream, err: err.message }, 'batch publish failed; will resend'),
        );
        this.events.sent(stream, rows.length);
        if (rows.length === 0) break;
      }
    }
  }

  /**
   * No progress for ackTimeoutMs: resend. If the hub answered without resolving the row blocking the
   * watermark, count a try for it (and park it at maxTries); silence counts nothing.
   */
  private timeout(stream: SequencedStream, st: StreamState, now: number): void {
    // Only the row right above the watermark blocks it; blaming the whole batch would park innocent rows.
    const blocking = this.outbox.after(stream, this.outbox.watermark(stream), 1).map((r) => r.seq);
    const answered = blocking.length > 0 && st.answeredWithout === blocking[0];
    if (answered) this.outbox.markTried(stream, blocking);
    const poison = answered ? this.outbox.overTries(stream, this.opts.maxTries) : [];
    if (poison.length) {
      const n = this.outbox.drop(stream, poison, 'parked', true);
      this.log.warn({ stream, seqs: poison.length }, 'rows never acked after max tries: parked');
      this.events.parked(stream, n);
    }
    const next = this.fresh(stream, now);
    next.gateUntil = 0;
    next.skippedDirty = true;
    this.state.set(stream, next);
    Object.assign(st, next);
    this.events.resend(stream, 'timeout');
  }
}

/** The batch JSON, built from stored bodies with the seq spliced in (no parse/stringify per item). */
export function batchPayload(
  agentId: string,
  stream: SequencedStream,
  rows: Array<{ seq: number; body: string }>,
  skipped: Array<[number, number]>,
  incarnation = '',
): string {
  const items = rows.map((r) => `{"seq":${r.seq},${r.body.slice(1)}`);
  const inc = incarnation ? `"incarnation":${JSON.stringify(incarnation)},` : '';
  const head = `{"v":1,"agent_id":${JSON.stringify(agentId)},"stream":"${stream}",${inc}"sent_at":"${new Date().toISOString()}","items":[`;
  return `${head}${items.join(',')}]${skipped.length ? `,"skipped":${JSON.stringify(skipped)}` : ''}}`;
}
