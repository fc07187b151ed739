import { randomUUID } from 'node:crypto';
import type { DiagResponse, LiveMessage } from '@cityflow/protocol';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Live messages for WebSocket clients, plus control messages between replicas (e.g. token revocations). */
export type BusMessage =
  | LiveMessage
  | { type: 'revoked'; data: { jti: string; exp: number } }
  /** a user's tokens changed: `version` is the one tokens must now carry, null = the user was removed */
  | { type: 'user-tokens'; data: { user_id: number; version: number | null } }
  /** a replica dropped a cache namespace: the others clear their in-process level */
  | { type: 'cache-invalidate'; data: { ns: string } }
  /** an agent's answer to a diagnostics request, for whichever replica asked */
  | { type: 'diag'; data: DiagResponse };
type Listener = (msg: BusMessage) => void;

/** The Redis channel every replica listens on. */
export const busChannel = (prefix: string) => `${prefix}live`;

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
  /** Redis channel: `<CITYFLOW_REDIS_PREFIX>live` */
  readonly channel: string;

  constructor(
    private readonly redisUrl: string | undefined,
    private readonly log: Logger,
    prefix = 'cityflow:',
  ) {
    this.channel = busChannel(prefix);
  }

  async start(): Promise<void> {
    if (!this.redisUrl) return;
    // No lazy connect and no awaiting: a hub starts (and serves its own clients) while Redis is down;
    // ioredis keeps reconnecting and re-subscribes by itself.
    this.pub = new Redis(this.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.sub = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    for (const c of [this.pub, this.sub])
      c.on('error', (e) => this.log.warn({ err: e.message }, 'redis live bus error'));
    this.sub.on('message', (_ch, raw: string) => {
      try {
        const env = JSON.parse(raw) as { o: string; m: BusMessage };
        if (env.o !== this.origin) this.deliver(env.m);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'bad live bus message');
      }
    });
    this.sub
      .subscribe(this.channel)
      .catch((e) => this.log.warn({ err: (e as Error).message }, 'redis subscribe failed'));
    // Give a reachable Redis a moment so the first messages already cross replicas.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      this.sub!.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * One message to every running replica from a process that runs no bus (the CLI after changing a
   * user): waits for Redis (bounded), publishes, disconnects. False when Redis could not be reached.
   */
  static async publishOnce(
    redisUrl: string,
    prefix: string,
    msg: BusMessage,
    timeoutMs = 3000,
  ): Promise<boolean> {
    const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs });
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.publish(busChannel(prefix), JSON.stringify({ o: `cli-${randomUUID()}`, m: msg }));
      return true;
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  }

  publish(msg: BusMessage): void {
    this.deliver(msg);
    this.pub?.publish(this.channel, JSON.stringify({ o: this.origin, m: msg })).catch(() => undefined);
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
    for (const c of [this.sub, this.pub]) if (c) c.disconnect();
    this.pub = this.sub = null;
  }
}
