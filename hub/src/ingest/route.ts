import { type UplinkStream, parseTopic } from '@cityflow/protocol';

/** Where an uplink message goes: its agent (from the topic, which the broker's ACL bound to the login) and stream. */
export interface Route {
  agentId: string;
  stream: UplinkStream | 'status';
}

/** Stage 1: the topic names the agent and the stream; anything else is not for the ingest. */
export function route(topic: string): Route | null {
  const t = parseTopic(topic);
  if (!t) return null;
  if (t.kind === 'uplink') return { agentId: t.agentId, stream: t.stream };
  if (t.kind === 'status') return { agentId: t.agentId, stream: 'status' };
  return null;
}

/** Messages of one agent stream are processed in order; different keys run concurrently. */
export const routeKey = (r: Route) => `${r.agentId}/${r.stream}`;
