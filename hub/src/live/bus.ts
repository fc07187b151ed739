import { randomUUID } from 'node:crypto';
import type { LiveMessage } from '@cityflow/protocol';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Live messages for WebSocket clients, plus control messages between replicas (e.g. token revocations). */
export type BusMessage = LiveMessage | { type: 'revoked'; data: { jti: string; exp: number } };
type Listener = (msg: BusMessage) => void;

/**
 * Live fan-out between hub replicas. Local listeners always get a message at once; with Redis it also
 * goes to the other replicas (each message carries its origin so a replica never delivers its own twice).
 * When Redis is down, local delivery still works.
 */
export class LiveBus {
  private readonly listeners = new Set<Listener>();
  private readonly origin = randomUUID();
  private pub: Redis | null = null;
  private sub: Redis | null = null;
  static readonly CHANNEL = 'cityflow:live';

  constructor(
    private readonly redisUrl: string | undefined,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (!this.redisUrl) return;
    const opts = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
    this.pub = new Redis(this.redisUrl, opts);
    this.sub = new Redis(this.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    for (const c of [this.pub, this.sub])
      c.on('error', (e) => this.log.warn({ err: e.message }, 'redis live bus error'));
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    this.sub.on('message', (_ch, raw: string) => {
      try {
        const env = JSON.parse(raw) as { o: string; m: BusMessage };
        if (env.o !== this.origin) this.deliver(env.m);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'bad live bus message');
      }
    });
    await this.sub.subscribe(LiveBus.CHANNEL);
  }

  publish(msg: BusMessage): void {
    this.deliver(msg);
    this.pub?.publish(LiveBus.CHANNEL, JSON.stringify({ o: this.origin, m: msg })).catch(() => undefined);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private deliver(msg: BusMessage) {
    for (const l of this.listeners) {
      try {
        l(msg);
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'live listener failed');
      }
    }
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    for (const c of [this.sub, this.pub]) if (c) await c.quit().catch(() => c.disconnect());
    this.pub = this.sub = null;
  }
}
