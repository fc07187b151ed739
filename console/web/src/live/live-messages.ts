import type { LiveMessage } from '@cityflow/protocol';
import type { LiveState } from './live-connection.js';

/** Page → live worker. */
export type PageCommand = { kind: 'start'; url: string } | { kind: 'stop' };

/** Live worker → page. */
export type WorkerMessage =
  | { kind: 'batch'; messages: LiveMessage[]; dropped: number }
  | { kind: 'state'; state: LiveState; retryInS?: number }
  | { kind: 'revoked' };
