import { type DiagRequest, type DiagResponse, validateDiagRequest } from '@cityflow/protocol';
import type { ReadingsStore } from '../storage/readings-store.js';

const DEFAULT_LIMIT = 1000;

/** Answers a hub diagnostics request with raw readings kept on the agent (they never cross the link otherwise). */
export function answerDiag(agentId: string, readings: ReadingsStore, payload: unknown): DiagResponse {
  const r = validateDiagRequest(payload);
  const requestId =
    typeof (payload as { request_id?: unknown })?.request_id === 'string'
      ? (payload as DiagRequest).request_id
      : 'unknown';
  if (!r.ok)
    return {
      v: 1,
      agent_id: agentId,
      stream: 'diag',
      request_id: requestId,
      items: [],
      truncated: false,
      error: r.errors.join('; '),
    };
  const q = r.value;
  const limit = q.limit ?? DEFAULT_LIMIT;
  const items = readings.query({
    fromMs: Date.parse(q.from),
    toMs: Date.parse(q.to),
    sensorId: q.sensor_id,
    roadId: q.road_id,
    limit: limit + 1,
  });
  return {
    v: 1,
    agent_id: agentId,
    stream: 'diag',
    request_id: q.request_id,
    items: items.slice(0, limit),
    truncated: items.length > limit,
  };
}
