/**
 * A minimal hub for agent tests: a real aedes broker on a free port that implements the agent<->hub
 * semantics the real hub does (idempotent store on (stream, seq), contiguous watermark counting
 * skipped ranges, retained ack after every batch incl. pure duplicates, config on connect).
 */
import { createServer, type Server } from 'node:net';
import {
  type AgentConfig,
  parseTopic,
  topics,
  validateForecastBatch,
  validateSummaryBatch,
} from '@cityflow/protocol';
import { Aedes } from 'aedes';

export interface FakeHubOptions {
  agentId: string;
  /** seqs this hub never acknowledges (simulates a poison row the hub cannot store) */
  neverStore?: (stream: string, seq: number) => boolean;
  /** credentials the broker accepts (agent id -> password); none = anonymous */
  password?: string;
  config?: AgentConfig;
}

export class FakeHub {
  aedes!: Aedes;
  server!: Server;
  port = 0;
  /** stream -> seq -> item (first copy) */
  readonly stored = new Map<string, Map<number, Record<string, unknown>>>();
  /** stream -> seq -> times received (duplicates show as > 1) */
  readonly received = new Map<string, Map<number, number>>();
  readonly resolved = new Map<string, Set<number>>();
  readonly watermarks = new Map<string, number>();
  /** stream -> the incarnation its seq space belongs to (a batch of another one starts a new space) */
  readonly incarnations = new Map<string, string>();
  readonly messages: Array<{ topic: string; payload: unknown }> = [];
  readonly statuses: string[] = [];
  batches = 0;
  connects = 0;
  /** true: the hub's database is down — batches are neither stored nor acked (back-pressure) */
  dbDown = false;
  /** batches received while `dbDown` */
  ignoredBatches = 0;

  constructor(private readonly opts: FakeHubOptions) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    this.aedes = await Aedes.createBroker({
      authenticate: (_c, username, password, done) => {
        if (!this.opts.password) return done(null, true);
        const ok = username === this.opts.agentId && password?.toString() === this.opts.password;
        if (ok) return done(null, true);
        const err = Object.assign(new Error('bad credentials'), { returnCode: 4 as const });
        done(err, false);
      },
    });
    this.aedes.on('client', () => this.connects++);
    this.aedes.subscribe(
      'cityflow/v1/agents/#',
      (packet, cb) => {
        this.onPacket(packet.topic, packet.payload as Buffer);
        cb();
      },
      () => {},
    );
    this.server = createServer(this.aedes.handle);
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    if (this.opts.config) await this.publish(topics.config(this.opts.agentId), this.opts.config, true);
  }

  private onPacket(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t) return;
    const value = JSON.parse(payload.toString('utf8'));
    if (t.kind === 'status') this.statuses.push(value.state);
    if (t.kind !== 'uplink') return;
    this.messages.push({ topic, payload: value });
    if (t.stream !== 'summary' && t.stream !== 'forecast') return;
    const r = t.stream === 'summary' ? validateSummaryBatch(value) : validateForecastBatch(value);
    if (!r.ok) throw new Error(`fake hub got an invalid batch: ${r.errors.join('; ')}`);
    if (this.dbDown) {
      this.ignoredBatches++;
      return;
    }
    this.batches++;
    const s = t.stream;
    const inc = r.value.incarnation ?? '';
    if (this.incarnations.get(s) !== inc) {
      // as the real hub: one watermark per (agent, incarnation, stream); shown here as a fresh space
      for (const m of [this.stored, this.received, this.resolved, this.watermarks]) m.delete(s);
      this.incarnations.set(s, inc);
    }
    const stored = this.map(this.stored, s, () => new Map());
    const received = this.map(this.received, s, () => new Map());
    const resolved = this.map(this.resolved, s, () => new Set());
    let prev = 0;
    for (const item of r.value.items) {
      if (item.seq <= prev) throw new Error('items not in ascending seq order');
      prev = item.seq;
      received.set(item.seq, (received.get(item.seq) ?? 0) + 1);
      if (this.opts.neverStore?.(s, item.seq)) continue;
      if (!stored.has(item.seq)) stored.set(item.seq, item as Record<string, unknown>);
      resolved.add(item.seq);
    }
    for (const [from, to] of r.value.skipped ?? []) for (let q = from; q <= to; q++) resolved.add(q);
    let w = this.watermarks.get(s) ?? 0;
    while (resolved.has(w + 1)) w++;
    this.watermarks.set(s, w);
    void this.publish(
      topics.ack(this.opts.agentId, s),
      {
        v: 1,
        agent_id: this.opts.agentId,
        stream: s,
        watermark: w,
        incarnation: inc,
        hub_ts: new Date().toISOString(),
      },
      true,
    );
  }

  /** Pretend this hub already knew the agent (its SQLite got wiped): start the watermark at `w`. */
  async presetWatermark(
    stream: 'summary' | 'forecast',
    w: number,
    hubTsMs = Date.now(),
    incarnation = 'old-database',
  ): Promise<void> {
    this.watermarks.set(stream, w);
    this.incarnations.set(stream, incarnation);
    const resolved = this.map(this.resolved, stream, () => new Set());
    for (let q = 1; q <= w; q++) resolved.add(q);
    await this.publish(
      topics.ack(this.opts.agentId, stream),
      {
        v: 1,
        agent_id: this.opts.agentId,
        stream,
        watermark: w,
        incarnation,
        hub_ts: new Date(hubTsMs).toISOString(),
      },
      true,
    );
  }

  private map<K, V>(m: Map<K, V>, k: K, mk: () => V): V {
    let v = m.get(k);
    if (!v) {
      v = mk();
      m.set(k, v);
    }
    return v;
  }

  publish(topic: string, payload: unknown, retain: boolean): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  /** Drops the agent's connection (link flap). */
  kickAgent(): void {
    const c = (this.aedes as unknown as { clients: Record<string, { close(): void }> }).clients[
      `agent:${this.opts.agentId}`
    ];
    c?.close();
  }

  storedItems(stream: string): Array<Record<string, unknown>> {
    return [...(this.stored.get(stream)?.values() ?? [])];
  }

  duplicates(stream: string): number {
    return [...(this.received.get(stream)?.values() ?? [])].filter((n) => n > 1).length;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.aedes.close(() => r()));
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
