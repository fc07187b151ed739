import { READING_LIMITS, type SensorReading, topics } from '@cityflow/protocol';

/**
 * Broken sensor messages, the kinds a field deployment really sees, for fault injection: an agent
 * must reject each with a reason and count it, never crash (DESIGN.md, delivery guarantees).
 * The expected rejection code of each kind is the one `parseReadingMessage` gives.
 */
export const FAULT_KINDS = {
  'bad-json': 'CF_INVALID_JSON',
  'topic-mismatch': 'CF_TOPIC_MISMATCH',
  'negative-flow': 'CF_INVALID_READING',
  'string-speed': 'CF_INVALID_READING',
  'missing-field': 'CF_INVALID_READING',
  'occupancy-over-1': 'CF_INVALID_READING',
  oversize: 'CF_OVERSIZE',
} as const;
export type FaultKind = keyof typeof FAULT_KINDS;
export const FAULT_KIND_LIST = Object.keys(FAULT_KINDS) as FaultKind[];

export interface RawMessage {
  topic: string;
  payload: string;
}

/** Turns a good reading into a broken message of the given kind (on the sensor's own topic). */
export function corrupt(r: SensorReading, kind: FaultKind): RawMessage {
  const topic = topics.sensor(r.sensor_id);
  const json = (v: unknown) => ({ topic, payload: JSON.stringify(v) });
  switch (kind) {
    case 'bad-json':
      return { topic, payload: JSON.stringify(r).slice(0, -7) };
    case 'topic-mismatch':
      return json({ ...r, sensor_id: `${r.sensor_id}-x` });
    case 'negative-flow':
      return json({ ...r, flow_rate: -r.flow_rate - 1 });
    case 'string-speed':
      return json({ ...r, speed_kmh: 'fast' });
    case 'missing-field': {
      const { occupancy: _drop, ...rest } = r;
      return json(rest);
    }
    case 'occupancy-over-1':
      return json({ ...r, occupancy: 1.5 });
    case 'oversize':
      return json({ ...r, note: 'x'.repeat(READING_LIMITS.maxPayloadBytes) });
  }
}

/** Decides, reading by reading, whether to send a fault instead (share in [0,1], kinds in turn). */
export class FaultInjector {
  private next = 0;
  injected = 0;

  constructor(
    private readonly share: number,
    private readonly rng: () => number,
    private readonly kinds: readonly FaultKind[] = FAULT_KIND_LIST,
  ) {}

  maybe(r: SensorReading): RawMessage | null {
    if (this.share <= 0 || this.rng() >= this.share) return null;
    this.injected++;
    return corrupt(r, this.kinds[this.next++ % this.kinds.length]!);
  }
}
