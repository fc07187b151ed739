/** Shared by the agent benchmarks: a straight-line network of one agent, and the agent binary. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const AGENT_BIN = fileURLToPath(new URL('../../edge-agent/bin/cityflow-agent.js', import.meta.url));

/** `roads` roads in a line (ids `<p>R-i`, nodes `<p>N-i`), `sensors` sensors spread over them (`<p>S-i`). */
export function lineNetwork({ prefix, roads, sensors, agentId }) {
  const features = [];
  for (let r = 0; r < roads; r++)
    features.push({
      type: 'Feature',
      geometry: {
        type: 'LineString',
        coordinates: [
          [2.35 + r * 0.001, 48.85],
          [2.351 + r * 0.001, 48.851],
        ],
      },
      properties: {
        kind: 'road',
        road_id: `${prefix}R-${r}`,
        from_node: `${prefix}N-${r}`,
        to_node: `${prefix}N-${r + 1}`,
        length_m: 150,
        lanes: 2,
        speed_limit_kmh: 50,
      },
    });
  for (let n = 0; n <= roads; n++)
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [2.35 + n * 0.001, 48.85] },
      properties: { kind: 'intersection', node_id: `${prefix}N-${n}`, agent_id: agentId },
    });
  for (let s = 0; s < sensors; s++)
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [2.35 + (s % roads) * 0.001, 48.8505] },
      properties: {
        kind: 'sensor',
        sensor_id: `${prefix}S-${s}`,
        road_id: `${prefix}R-${s % roads}`,
        agent_id: agentId,
      },
    });
  return { type: 'FeatureCollection', features };
}

/**
 * Starts `cityflow-agent run …args`; resolves with the child and its `ready` line. `stderr`: where the
 * agent's logs go ('inherit', or 'ignore' for a suite that prints a table).
 */
export function spawnAgent(args, { stderr = 'inherit' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT_BIN, 'run', ...args], {
      stdio: ['ignore', 'pipe', stderr],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'));
      if (line) resolve({ child, ready: JSON.parse(line) });
    });
    child.once('exit', (code) => reject(new Error(`agent exited ${code}`)));
  });
}
