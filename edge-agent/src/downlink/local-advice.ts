import { type Advice, type LocalAdvice, topics } from '@cityflow/protocol';
import type { MetaStore } from '../storage/meta-store.js';

const KEY = 'last_advice';

/**
 * The last reroute advice from the hub, kept in SQLite and re-published (retained) on the local
 * broker with its age, so roadside signs keep working when the hub is unreachable. Items whose
 * `valid_until` has passed are not shown: stale advice on a sign is worse than none.
 */
export class LocalAdviceService {
  private advice: Advice | null;

  constructor(
    private readonly agentId: string,
    private readonly meta: MetaStore,
    private readonly now: () => number,
    private readonly publishLocal: (topic: string, payload: string, retain: boolean) => Promise<void>,
  ) {
    this.advice = meta.get<Advice>(KEY) ?? null;
  }

  update(advice: Advice): void {
    this.advice = advice;
    this.meta.set(KEY, advice);
  }

  current(hubConnected: boolean): LocalAdvice | null {
    const a = this.advice;
    if (!a) return null;
    const now = this.now();
    const issued = Date.parse(a.issued_at);
    return {
      v: 1,
      agent_id: this.agentId,
      issued_at: a.issued_at,
      age_s: Math.max(0, Math.round((now - issued) / 1000)),
      hub_connected: hubConnected,
      items: a.items.filter((i) => Date.parse(i.valid_until) > now),
    };
  }

  async publish(hubConnected: boolean): Promise<void> {
    const msg = this.current(hubConnected);
    if (msg) await this.publishLocal(topics.localAdvice(), JSON.stringify(msg), true);
  }
}
