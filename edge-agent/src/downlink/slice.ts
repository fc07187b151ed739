import { type AgentConfig, loadNetwork, type Network } from '@cityflow/protocol';
import type { SensorDirectory } from '../ingest/reading-checks.js';
import type { MetaStore } from '../storage/meta-store.js';

const KEY = 'network_slice';

/**
 * The agent's network slice (retained config from the hub). The last one received is kept in SQLite,
 * so after a reboot without the hub the agent still knows its sensors and speed limits.
 */
export class SliceState implements SensorDirectory {
  private net: Network | null = null;
  private sensorRoads: Map<string, string> | null = null;
  issuedAt: string | null = null;

  constructor(private readonly meta: MetaStore) {
    const saved = meta.get<AgentConfig>(KEY);
    if (saved) this.apply(saved, false);
  }

  /** Applies a validated config; returns the loader's errors when the network inside is invalid. */
  apply(config: AgentConfig, persist = true): string[] {
    const r = loadNetwork(config.network);
    if (!r.ok) return r.errors;
    this.net = r.value;
    this.sensorRoads = new Map([...r.value.sensors.values()].map((s) => [s.sensor_id, s.road_id]));
    this.issuedAt = config.issued_at;
    if (persist) this.meta.set(KEY, config);
    return [];
  }

  sensors(): Map<string, string> | null {
    return this.sensorRoads;
  }

  speedLimit(roadId: string): number | null {
    return this.net?.roads.get(roadId)?.speed_limit_kmh ?? null;
  }

  network(): Network | null {
    return this.net;
  }
}
