/** Bounds of the ingest queues (payload bytes waiting to be processed). */
export interface QueueLimits {
  perAgentBytes: number;
  totalBytes: number;
}

/** 8 MiB of unprocessed payloads per agent (a few full batches) and 256 MiB in all. */
export const INGEST_QUEUE_DEFAULTS: QueueLimits = { perAgentBytes: 8 << 20, totalBytes: 256 << 20 };

/**
 * Serial queues per key (one agent stream), bounded in payload bytes per agent and in total. A
 * message that does not fit is shed, not queued: it is not acked, so the agent keeps it and resends —
 * a hung database stops the acks and the agents buffer, instead of the hub growing until it dies.
 */
export class BoundedQueues {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly agentBytes = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly limits: QueueLimits,
    private readonly onBytes: (total: number) => void = () => undefined,
  ) {}

  get queuedBytes(): number {
    return this.total;
  }

  /**
   * Queues `fn` behind the key's previous work; returns the bound that refused it, or null. `force`
   * takes the message whatever the bounds (tiny control messages such as the online status).
   */
  push(
    key: string,
    agentId: string,
    bytes: number,
    fn: () => Promise<void>,
    force = false,
  ): 'agent' | 'total' | null {
    const mine = this.agentBytes.get(agentId) ?? 0;
    // An agent with nothing queued always gets one message in, however large (the broker bounds a
    // packet): otherwise a batch above the bound could never be taken and its stream would wedge.
    if (!force && mine > 0 && mine + bytes > this.limits.perAgentBytes) return 'agent';
    if (!force && mine > 0 && this.total + bytes > this.limits.totalBytes) return 'total';
    this.account(agentId, bytes);
    const next = (this.tails.get(key) ?? Promise.resolve())
      .then(fn)
      .finally(() => this.account(agentId, -bytes));
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.finally(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return null;
  }

  /** Resolves when everything queued so far is processed. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all([...this.tails.values()]);
  }

  private account(agentId: string, delta: number) {
    const n = (this.agentBytes.get(agentId) ?? 0) + delta;
    if (n <= 0) this.agentBytes.delete(agentId);
    else this.agentBytes.set(agentId, n);
    this.total += delta;
    this.onBytes(this.total);
  }
}
