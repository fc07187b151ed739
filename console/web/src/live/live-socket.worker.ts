/**
 * The live worker: the WebSocket, its reconnects and the parsing of every frame run here, off the
 * page's thread. A 5,000-road city sends 5,000 frames a second: received on the page, their events
 * alone put 7 % of its frames past 16.7 ms (frame p95 33–50 ms; bench/console-render.js, SwiftShader);
 * here, the page gets four batches a second and its frame p95 is one frame (16.7 ms). Messages: page → worker `start`/`stop` (live-socket.ts), worker → page
 * `WorkerMessage`.
 */
import { LiveConnection, type LiveSink } from './live-connection.js';
import type { PageCommand, WorkerMessage } from './live-messages.js';

const scope = self as unknown as {
  postMessage(m: WorkerMessage): void;
  onmessage: ((ev: MessageEvent<PageCommand>) => void) | null;
  close(): void;
};
const sink: LiveSink = {
  batch: (messages, dropped) => scope.postMessage({ kind: 'batch', messages, dropped }),
  state: (state, retryInS) => scope.postMessage({ kind: 'state', state, retryInS }),
  revoked: () => scope.postMessage({ kind: 'revoked' }),
};
let connection: LiveConnection | null = null;

scope.onmessage = (ev) => {
  const cmd = ev.data;
  if (cmd.kind === 'start' && !connection) {
    connection = new LiveConnection(cmd.url, sink);
    connection.start();
  } else if (cmd.kind === 'stop') {
    connection?.stop();
    connection = null;
    // The close frame is on its way; nothing of this session stays behind.
    scope.close();
  }
};
