import type { LiveMessage } from '@cityflow/protocol';
import type { LiveState } from './live/live-connection.js';
import type { PageCommand, WorkerMessage } from './live/live-messages.js';

export interface LiveSocketEvents {
  /** frames in arrival order, a batch every LIVE_BATCH_MS at most (bulk types) or at once (others) */
  messages(batch: LiveMessage[]): void;
  state(s: LiveState, retryInS?: number): void;
  /** the hub ended the session: do not retry */
  revoked(): void;
}

/**
 * The page's end of the live worker (live/live-socket.worker.ts), which holds `/ws/live?token=` with
 * automatic reconnect. `stop()` tells it to close the socket and end; nothing it sends after that
 * reaches the events.
 */
export class LiveSocket {
  private worker: Worker | null = null;
  private dropped = 0;

  constructor(
    private readonly url: () => string,
    private readonly on: LiveSocketEvents,
  ) {}

  start(): void {
    if (this.worker) return;
    // A file of its own (no blob: worker), like MapLibre's, so a strict CSP can allow it.
    const worker = new Worker(new URL('./live/live-socket.worker.ts', import.meta.url), { type: 'module' });
    this.worker = worker;
    worker.onmessage = (ev: MessageEvent<WorkerMessage>) => {
      if (this.worker !== worker) return;
      const m = ev.data;
      if (m.kind === 'batch') {
        if (m.dropped > this.dropped)
          console.warn(`cityflow live: ${m.dropped - this.dropped} malformed frame(s) dropped`);
        this.dropped = m.dropped;
        this.on.messages(m.messages);
      } else if (m.kind === 'state') this.on.state(m.state, m.retryInS);
      else {
        this.stop();
        this.on.revoked();
      }
    };
    worker.onerror = (ev) => console.error('cityflow live worker:', ev.message);
    this.send({ kind: 'start', url: this.url() });
  }

  private send(cmd: PageCommand): void {
    this.worker?.postMessage(cmd);
  }

  stop(): void {
    this.send({ kind: 'stop' });
    this.worker = null;
  }
}
