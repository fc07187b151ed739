import type { Network } from '@cityflow/protocol';
import type { Rejection } from './refusal.js';

/**
 * Stage 4: an agent speaks only for its own roads. The broker's ACL already binds the topic to the
 * login; here the payload must agree with the topic, and every item must name a road (and sensor) of
 * the agent's slice of the network. A sensor moved to another agent, or a road removed from the
 * network, is refused for good (acked and quarantined, replayable once the network is fixed).
 */
export class Authorizer {
  private readonly roadsByAgent = new Map<string, Set<string>>();

  constructor(private readonly net: Network) {
    for (const [agentId, slice] of net.agents) this.roadsByAgent.set(agentId, new Set(slice.roads));
  }

  /** The envelope's `agent_id` must be the topic's (a login cannot speak under another id). */
  envelope(topicAgentId: string, v: { agent_id: string }): string[] | null {
    return v.agent_id === topicAgentId
      ? null
      : [`agent_id: ${JSON.stringify(v.agent_id)} differs from topic ${JSON.stringify(topicAgentId)}`];
  }

  /** Is this road in the agent's slice? (live snapshots are filtered by it) */
  ownsRoad(agentId: string, roadId: string): boolean {
    return this.roadsByAgent.get(agentId)?.has(roadId) ?? false;
  }

  /** Is this sensor the agent's, on this road? (a live snapshot's per-loop detail is filtered by it) */
  ownsSensorOn(agentId: string, roadId: string, sensorId: string): boolean {
    const s = this.net.sensors.get(sensorId);
    return !!s && s.agent_id === agentId && s.road_id === roadId;
  }

  /** A refusal for an item naming a road or sensor outside the agent's slice; null when it may speak. */
  item(agentId: string, seq: number, it: { road_id: string; sensor_id?: string }): Rejection | null {
    const reject = (code: Rejection['code'], message: string): Rejection => ({ seq, code, message });
    if (!this.net.roads.has(it.road_id))
      return reject('CF_REJECTED_BY_HUB', `road_id ${it.road_id} is not a road of the network`);
    if (it.sensor_id !== undefined) {
      if (this.net.uncoveredSensors.has(it.sensor_id))
        return reject(
          'CF_SENSOR_UNCOVERED',
          `sensor_id ${it.sensor_id} is covered by no agent in the network file`,
        );
      const sensor = this.net.sensors.get(it.sensor_id);
      if (!sensor) return reject('CF_UNKNOWN_SENSOR', `sensor_id ${it.sensor_id} is not in the network`);
      if (sensor.agent_id !== agentId)
        return reject('CF_NOT_AUTHORIZED', `sensor_id ${it.sensor_id} belongs to agent ${sensor.agent_id}`);
      if (sensor.road_id !== it.road_id)
        return reject(
          'CF_REJECTED_BY_HUB',
          `sensor_id ${it.sensor_id} is on road ${sensor.road_id}, not ${it.road_id}`,
        );
      return null;
    }
    if (!this.ownsRoad(agentId, it.road_id))
      return reject('CF_NOT_AUTHORIZED', `road_id ${it.road_id} is not in the slice of agent ${agentId}`);
    return null;
  }
}
