/**
 * Every MQTT topic string in CityFlow comes from these functions (never concatenate topics elsewhere).
 *
 * Sensor side (seed-compatible, on each agent's local broker):
 *   cityflow/traffic/{sensor_id}
 * Agent <-> hub (versioned, on the hub's broker):
 *   cityflow/v1/agents/{agent_id}/up/{stream}      agent -> hub   uplink streams
 *   cityflow/v1/agents/{agent_id}/status           agent -> hub   retained online/offline + last will
 *   cityflow/v1/agents/{agent_id}/ack/{stream}     hub -> agent   retained contiguous ack watermark
 *   cityflow/v1/agents/{agent_id}/config           hub -> agent   retained network slice + settings
 *   cityflow/v1/agents/{agent_id}/advice           hub -> agent   retained reroute advice for its roads
 *   cityflow/v1/agents/{agent_id}/diag/request     hub -> agent   diagnostics request (answer on up/diag)
 * Roadside (on each agent's local broker):
 *   cityflow/v1/local/advice                       agent -> signs retained advice, with its age
 */
export const TOPIC_ROOT = 'cityflow/v1';
export const SENSOR_ROOT = 'cityflow/traffic';

/** Streams an agent sends upward. `summary` and `forecast` are sequenced and acked; the rest are best effort. */
export const SEQUENCED_STREAMS = ['summary', 'forecast'] as const;
export const UPLINK_STREAMS = ['summary', 'forecast', 'live', 'health', 'diag'] as const;
export type SequencedStream = (typeof SEQUENCED_STREAMS)[number];
export type UplinkStream = (typeof UPLINK_STREAMS)[number];

/** Ids are used as single topic levels: no wildcards, separators or control characters. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';
const ID_RE = new RegExp(ID_PATTERN);

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

function level(id: string, what: string): string {
  if (!isValidId(id)) throw new Error(`invalid ${what} for a topic level: ${JSON.stringify(id)}`);
  return id;
}

export const topics = {
  sensor: (sensorId: string) => `${SENSOR_ROOT}/${level(sensorId, 'sensor_id')}`,
  sensorWildcard: () => `${SENSOR_ROOT}/+`,
  uplink: (agentId: string, stream: UplinkStream) =>
    `${TOPIC_ROOT}/agents/${level(agentId, 'agent_id')}/up/${stream}`,
  status: (agentId: string) => `${TOPIC_ROOT}/agents/${level(agentId, 'agent_id')}/status`,
  ack: (agentId: string, stream: SequencedStream) =>
    `${TOPIC_ROOT}/agents/${level(agentId, 'agent_id')}/ack/${stream}`,
  ackWildcard: (agentId: string) => `${TOPIC_ROOT}/agents/${level(agentId, 'agent_id')}/ack/+`,
  config: (agentId: string) => `${TOPIC_ROOT}/agents/${level(agentId, 'agent_id')}/config`,
  advice: (agentId: string) => `${TOPIC_ROOT}/agents/${level(agentId, 'agent_id')}/advice`,
  diagRequest: (agentId: string) => `${TOPIC_ROOT}/agents/${level(agentId, 'agent_id')}/diag/request`,
  localAdvice: () => `${TOPIC_ROOT}/local/advice`,
  /** Everything one agent may publish (hub broker ACL). */
  agentPublishFilter: (agentId: string) => `${TOPIC_ROOT}/agents/${level(agentId, 'agent_id')}/#`,
  /** Hub subscriptions; with an external broker and N replicas, wrap them in `shared()`. */
  hubUplinkFilter: () => `${TOPIC_ROOT}/agents/+/up/+`,
  hubStatusFilter: () => `${TOPIC_ROOT}/agents/+/status`,
  shared: (group: string, filter: string) => `$share/${level(group, 'share group')}/${filter}`,
};

export type ParsedTopic =
  | { kind: 'sensor'; sensorId: string }
  | { kind: 'uplink'; agentId: string; stream: UplinkStream }
  | { kind: 'status'; agentId: string }
  | { kind: 'ack'; agentId: string; stream: SequencedStream }
  | { kind: 'config'; agentId: string }
  | { kind: 'advice'; agentId: string }
  | { kind: 'diag-request'; agentId: string }
  | { kind: 'local-advice' };

/** Parses any CityFlow topic; `null` for topics that are not ours or are malformed. */
export function parseTopic(topic: string): ParsedTopic | null {
  const p = topic.split('/');
  if (p[0] !== 'cityflow') return null;
  if (p[1] === 'traffic' && p.length === 3 && isValidId(p[2]!)) return { kind: 'sensor', sensorId: p[2]! };
  if (p[1] !== 'v1') return null;
  if (p[2] === 'local' && p[3] === 'advice' && p.length === 4) return { kind: 'local-advice' };
  if (p[2] !== 'agents' || p.length < 5 || !isValidId(p[3]!)) return null;
  const agentId = p[3]!;
  const [a, b] = [p[4], p[5]];
  if (p.length === 6 && a === 'up' && (UPLINK_STREAMS as readonly string[]).includes(b!))
    return { kind: 'uplink', agentId, stream: b as UplinkStream };
  if (p.length === 6 && a === 'ack' && (SEQUENCED_STREAMS as readonly string[]).includes(b!))
    return { kind: 'ack', agentId, stream: b as SequencedStream };
  if (p.length === 6 && a === 'diag' && b === 'request') return { kind: 'diag-request', agentId };
  if (p.length === 5 && a === 'status') return { kind: 'status', agentId };
  if (p.length === 5 && a === 'config') return { kind: 'config', agentId };
  if (p.length === 5 && a === 'advice') return { kind: 'advice', agentId };
  return null;
}
