import { type Ack, type SequencedStream, topics } from '@cityflow/protocol';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.js';
import type { Rejection } from './refusal.js';

export type Publish = (
  topic: string,
  payload: unknown,
  opts: { qos: 0 | 1; retain: boolean },
) => Promise<void>;

/**
 * Stage 7: the retained ack, published only after COMMIT. It names the incarnation it belongs to, so
 * an agent applies only its own (a wiped agent's new database never takes the old one's watermark).
 */
export class Acker {
  constructor(private readonly d: { publish: Publish; metrics: HubMetrics; log: Logger }) {}

  async ack(
    agentId: string,
    incarnation: string,
    stream: SequencedStream,
    watermark: number,
    maxSeq: number,
    rejected: Rejection[] = [],
  ): Promise<void> {
    const ack: Ack = {
      v: 1,
      agent_id: agentId,
      stream,
      watermark,
      incarnation,
      max_seq: Math.max(maxSeq, watermark),
      hub_ts: new Date().toISOString(),
    };
    if (rejected.length) ack.rejected = rejected.slice(0, 1000);
    try {
      await this.d.publish(topics.ack(agentId, stream), ack, { qos: 1, retain: true });
      this.d.metrics.acks.inc({ stream });
    } catch (e) {
      this.d.log.warn(
        { agent_id: agentId, stream, err: (e as Error).message },
        'ack publish failed; the agent will resend',
      );
    }
  }
}
