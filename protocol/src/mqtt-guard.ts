/**
 * The guard both CityFlow brokers (the agent's sensor broker and the hub's embedded broker, both aedes)
 * put in front of their MQTT parser. aedes has no maximum packet size: mqtt-packet buffers a packet
 * until its announced remaining length has arrived, so a client can stream a 256 MB CONNECT before it
 * is ever authenticated. The guard reads each packet's fixed header (MQTT 3.1.1 §2.2: one type byte,
 * then the remaining length in 1-4 bytes of 7 bits each) on the raw byte stream and destroys the
 * socket as soon as a packet announces more than the bound — before a single byte of its body is
 * buffered. It also bounds connections and per-client publish rates. Pure JavaScript (no node:
 * imports), so the package stays usable in the browser; sockets are typed structurally.
 */
import { READING_LIMITS } from './reading.js';

/** The stated bounds (full MQTT packet: fixed header + variable header + payload). */
export const MQTT_LIMITS = {
  /**
   * Agent sensor broker: a reading is < 1 KiB (READING_LIMITS.maxPayloadBytes) plus a topic of at most
   * ~80 bytes; a CONNECT with credentials and a will is far smaller. 4 KiB leaves room and no more.
   */
  sensorPacketMaxBytes: 4 * READING_LIMITS.maxPayloadBytes,
  /**
   * Hub broker: one uplink message of the largest declared batch (5000 items of the longest legal
   * ids and numbers, see protocol/test/mqtt-guard.test.ts) is ~2.6 MB; 4 MiB covers it.
   */
  hubPacketMaxBytes: 4 * 1024 * 1024,
} as const;

/** Why a broker refused something: the `reason` label of the refusal counters (bounded set). */
export const BROKER_REFUSAL_REASONS = [
  'packet_size',
  'malformed',
  'connections',
  'rate',
  'retained',
  'auth',
  'disabled',
] as const;
export type BrokerRefusal = (typeof BROKER_REFUSAL_REASONS)[number];

/**
 * Follows packet boundaries through a byte stream, chunk by chunk, without buffering: `feed` returns
 * null while every packet seen so far is within `maxBytes`, else why the stream must be cut.
 */
export class FixedHeaderScanner {
  /** body bytes of the current packet still to skip */
  private skip = 0;
  /** 0 = expecting a type byte; 1..4 = reading remaining-length byte n */
  private lenByte = 0;
  private remaining = 0;
  private multiplier = 1;

  constructor(public maxBytes: number) {}

  feed(chunk: Uint8Array): 'packet_size' | 'malformed' | null {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.lenByte === 0) {
        this.lenByte = 1;
        this.remaining = 0;
        this.multiplier = 1;
        continue;
      }
      this.remaining += (byte & 0x7f) * this.multiplier;
      if (byte & 0x80) {
        // §2.2.3: at most four length bytes (268,435,455)
        if (this.lenByte === 4) return 'malformed';
        this.lenByte++;
        this.multiplier *= 128;
        continue;
      }
      const total = 1 + this.lenByte + this.remaining;
      if (total > this.maxBytes) return 'packet_size';
      this.skip = this.remaining;
      this.lenByte = 0;
    }
    return null;
  }
}

/** Token bucket: `ratePerS` sustained, `burst` at once; rate 0 = unlimited. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    if (this.ratePerS <= 0) return true;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerS);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What the guard needs of a socket (net.Socket and tls.TLSSocket both fit). */
export interface GuardedSocket {
  read(size?: number): unknown;
  destroy(err?: Error): unknown;
  once(event: 'close', listener: () => void): unknown;
}

export interface BrokerGuardOptions {
  maxPacketBytes: number;
  /** open connections at once; 0 = unlimited */
  maxConnections: number;
  /** publishes per second per connection (burst: two seconds' worth); 0 = unlimited */
  publishRatePerS: number;
  onRefuse(reason: BrokerRefusal): void;
  now?: () => number;
}

/**
 * One per broker. `admit(raw)` on every accepted TCP socket (before any TLS handshake) enforces the
 * connection limit; `scan(conn)` on the stream handed to aedes checks every packet's announced size;
 * `allowPublish(conn)` in authorizePublish applies the per-connection rate.
 */
export class BrokerGuard {
  private open = 0;
  private readonly buckets = new WeakMap<object, TokenBucket>();
  private readonly scanners = new WeakMap<object, FixedHeaderScanner>();
  private readonly rateRefused = new WeakSet<object>();

  constructor(private readonly opts: BrokerGuardOptions) {}

  get connections(): number {
    return this.open;
  }

  /** false (and the socket destroyed) when the broker is full. */
  admit(raw: GuardedSocket): boolean {
    if (this.opts.maxConnections > 0 && this.open >= this.opts.maxConnections) {
      this.opts.onRefuse('connections');
      raw.destroy();
      return false;
    }
    this.open++;
    raw.once('close', () => this.open--);
    return true;
  }

  /**
   * aedes consumes a connection only through `read()` on 'readable' (aedes lib/client.js), so the
   * scanner wraps that one method of the instance: every byte the parser will ever see is scanned
   * first, and the write path (corked PUBACKs) is untouched — no extra stream hop.
   */
  scan<S extends GuardedSocket>(conn: S): S {
    const scanner = new FixedHeaderScanner(this.opts.maxPacketBytes);
    this.scanners.set(conn, scanner);
    const read = conn.read.bind(conn);
    conn.read = (size?: number) => {
      const chunk = read(size);
      if (chunk instanceof Uint8Array) {
        const refused = scanner.feed(chunk);
        if (refused) {
          this.opts.onRefuse(refused);
          conn.destroy();
          return null;
        }
      }
      return chunk;
    };
    return conn;
  }

  /** Raises (or lowers) one connection's bound, e.g. for the hub's own authenticated clients. */
  setMaxPacketBytes(conn: object, maxBytes: number): void {
    const s = this.scanners.get(conn);
    if (s) s.maxBytes = maxBytes;
  }

  allowPublish(conn: object): boolean {
    const rate = this.opts.publishRatePerS;
    if (rate <= 0) return true;
    let b = this.buckets.get(conn);
    if (!b) {
      b = new TokenBucket(rate, 2 * rate, this.opts.now);
      this.buckets.set(conn, b);
    }
    if (b.take()) return true;
    // one refusal per connection: packets already parsed in the same read are refused silently
    if (!this.rateRefused.has(conn)) this.opts.onRefuse('rate');
    this.rateRefused.add(conn);
    return false;
  }
}
