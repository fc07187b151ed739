import type { LiveMessage } from '@cityflow/protocol';

/** Close code the hub uses when the token is revoked (logout elsewhere) or expired. */
export const WS_REVOKED = 4001;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/**
 * Frames are handed on in batches this often: a 5,000-road city sends 5,000 traffic frames a second,
 * and one store update (and one message to the page) per frame would spend the page on bookkeeping.
 */
export const LIVE_BATCH_MS = 250;
/** The frame types that come by the thousand; any other type is handed on at once (with what is pending). */
const BULK: ReadonlySet<string> = new Set(['traffic', 'prediction']);

export type LiveState = 'connecting' | 'live' | 'retrying';

export interface LiveSink {
  /** frames in arrival order; `dropped` = malformed frames since the connection was made (a total) */
  batch(messages: LiveMessage[], dropped: number): void;
  state(s: LiveState, retryInS?: number): void;
  /** the hub ended the session: no retry */
  revoked(): void;
}

/** What the connection needs of a WebSocket: the browser's, or `ws` in Node tests. */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  close(code?: number, reason?: string): void;
}

/** Full jitter (AWS architecture blog): a random delay in [0, min(max, base·2^attempt)]. */
export function backoffDelayMs(attempt: number, random = Math.random): number {
  return Math.floor(random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
}

/** A frame as the hub sends it, or null: parsed defensively, a malformed frame never reaches the views. */
export function parseFrame(raw: unknown): LiveMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(String(raw));
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const { type, data } = m as { type?: unknown; data?: unknown };
  return typeof type === 'string' && typeof data === 'object' && data !== null ? (m as LiveMessage) : null;
}

/**
 * `/ws/live?token=` with automatic reconnect and batching; it runs in the live worker
 * (live-socket.worker.ts), off the page's thread. `stop()` releases the socket and both timers; after a
 * 4001 close it stops by itself and reports `revoked`.
 */
export class LiveConnection {
  private ws: SocketLike | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private pending: LiveMessage[] = [];
  private attempt = 0;
  private dropped = 0;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly sink: LiveSink,
    private readonly open: (url: string) => SocketLike = (u) => new WebSocket(u) as unknown as SocketLike,
    private readonly batchMs = LIVE_BATCH_MS,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    this.sink.state('connecting');
    const ws = this.open(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.sink.state('live');
    };
    ws.onmessage = (ev) => {
      const m = parseFrame(ev.data);
      if (!m) {
        this.dropped++;
        return;
      }
      this.pending.push(m);
      if (!BULK.has(m.type)) this.flush();
      else this.flushTimer ??= setTimeout(() => this.flush(), this.batchMs);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.flush();
      if (this.stopped) return;
      if (ev.code === WS_REVOKED) {
        this.stopped = true;
        this.sink.revoked();
        return;
      }
      const delay = backoffDelayMs(this.attempt++);
      this.sink.state('retrying', Math.ceil(delay / 1000));
      this.retry = setTimeout(() => {
        this.retry = null;
        this.connect();
      }, delay);
    };
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.pending.length || this.stopped) return;
    const batch = this.pending;
    this.pending = [];
    this.sink.batch(batch, this.dropped);
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.pending = [];
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'signed out');
  }
}
