import type { LiveMessage } from '@cityflow/protocol';

/** Close code the hub uses when the token is revoked (logout elsewhere) or expired. */
export const WS_REVOKED = 4001;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export interface LiveSocketEvents {
  message(m: LiveMessage): void;
  state(s: 'connecting' | 'live' | 'retrying', retryInS?: number): void;
  /** the hub ended the session: do not retry */
  revoked(): void;
}

/** Full jitter (AWS architecture blog): a random delay in [0, min(max, base·2^attempt)]. */
export function backoffDelayMs(attempt: number, random = Math.random): number {
  return Math.floor(random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
}

/**
 * `/ws/live?token=` with automatic reconnect. `stop()` releases the socket and the retry timer; after a
 * 4001 close it stops by itself and reports `revoked`.
 */
export class LiveSocket {
  private ws: WebSocket | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private stopped = false;

  constructor(
    private readonly url: () => string,
    private readonly on: LiveSocketEvents,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    this.on.state('connecting');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.on.state('live');
    };
    ws.onmessage = (ev) => {
      // Frames are parsed defensively: a malformed frame is dropped, never thrown into the views.
      let m: unknown;
      try {
        m = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string')
        if (typeof (m as { data?: unknown }).data === 'object') this.on.message(m as LiveMessage);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (ev.code === WS_REVOKED) {
        this.stopped = true;
        this.on.revoked();
        return;
      }
      const delay = backoffDelayMs(this.attempt++);
      this.on.state('retrying', Math.ceil(delay / 1000));
      this.retry = setTimeout(() => {
        this.retry = null;
        this.connect();
      }, delay);
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'signed out');
  }
}
