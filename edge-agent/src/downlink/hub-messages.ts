import {
  type Ack,
  type Advice,
  type AgentConfig,
  parseTopic,
  validateAck,
  validateAdvice,
  validateAgentConfig,
} from '@cityflow/protocol';
import type { Logger } from '../logger.js';

export interface HubMessageHandlers {
  agentId: string;
  log: Logger;
  ack(ack: Ack): void;
  /** returns the problems when the config cannot be applied (the last good one is kept) */
  config(config: AgentConfig): string[];
  advice(advice: Advice): void;
  /** raw request value: the answer reports validation errors to the hub itself */
  diag(request: unknown): void;
}

/** Validates each downlink message at the trust boundary and hands it to its feature; bad ones are logged and dropped. */
export function routeHubMessage(topic: string, payload: Buffer, h: HubMessageHandlers): void {
  const t = parseTopic(topic);
  if (!t || !('agentId' in t) || t.agentId !== h.agentId) return;
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    h.log.warn({ topic, code: 'CF_INVALID_MESSAGE' }, 'hub message is not JSON; ignored');
    return;
  }
  if (t.kind === 'ack') {
    const r = validateAck(value);
    if (!r.ok)
      return void h.log.warn({ topic, errors: r.errors, code: 'CF_INVALID_MESSAGE' }, 'invalid ack ignored');
    h.ack(r.value);
  } else if (t.kind === 'config') {
    const r = validateAgentConfig(value);
    const errors = r.ok ? h.config(r.value) : r.errors;
    if (errors.length)
      h.log.warn(
        { errors, code: 'CF_INVALID_MESSAGE' },
        'invalid config from hub ignored; keeping the last one',
      );
  } else if (t.kind === 'advice') {
    const r = validateAdvice(value);
    if (!r.ok)
      return void h.log.warn({ errors: r.errors, code: 'CF_INVALID_MESSAGE' }, 'invalid advice ignored');
    h.advice(r.value);
  } else if (t.kind === 'diag-request') h.diag(value);
}
