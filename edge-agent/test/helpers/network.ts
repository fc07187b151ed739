import type { AgentConfig } from '@cityflow/protocol';

/** A two-road slice for agent A-1: R-1 (50 km/h) with S-1, R-2 (30 km/h) with S-2. */
export function sliceConfig(agentId = 'A-1'): AgentConfig {
  const road = (id: string, from: string, to: string, limit: number) => ({
    type: 'Feature' as const,
    geometry: {
      type: 'LineString' as const,
      coordinates: [
        [2.35, 48.85],
        [2.351, 48.851],
      ],
    },
    properties: {
      kind: 'road' as const,
      road_id: id,
      from_node: from,
      to_node: to,
      length_m: 120,
      lanes: 2,
      speed_limit_kmh: limit,
    },
  });
  const sensor = (id: string, roadId: string) => ({
    type: 'Feature' as const,
    geometry: { type: 'Point' as const, coordinates: [2.3505, 48.8505] },
    properties: { kind: 'sensor' as const, sensor_id: id, road_id: roadId, agent_id: agentId },
  });
  return {
    v: 1,
    agent_id: agentId,
    issued_at: new Date().toISOString(),
    network: {
      type: 'FeatureCollection',
      features: [
        road('R-1', 'N-1', 'N-2', 50),
        road('R-2', 'N-2', 'N-3', 30),
        sensor('S-1', 'R-1'),
        sensor('S-2', 'R-2'),
      ] as never,
    },
  };
}
