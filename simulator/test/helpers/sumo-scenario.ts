import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sumoNetToNetwork } from '../../src/sumo/net-to-network.js';

export const SUMO_HOME = process.env.SUMO_HOME ?? '/usr/share/sumo';

/**
 * Builds a small closed-loop scenario with SUMO's own tools, the way the dev scenario was made: a 3×3
 * signalised grid (200 m blocks, 2 lanes), random trips for `endS` seconds, an E1 loop on every lane
 * 30 m before the stop line, and an incident: both lanes of B0B1 blocked 40 m after its start from
 * `incidentBeginS` to `incidentEndS`, so the loops downstream of it read an empty road while the roads
 * feeding it fill up.
 */
export function makeMiniScenario(o: {
  endS: number;
  incidentBeginS: number;
  incidentEndS: number;
  rateVph: number;
}) {
  const dir = mkdtempSync(join(tmpdir(), 'cityflow-sumo-mini-'));
  const run = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { cwd: dir, stdio: 'pipe', env: { ...process.env, SUMO_HOME } });
  run('netgenerate', [
    '--grid',
    '--grid.number',
    '3',
    '--grid.length',
    '200',
    '--default.lanenumber',
    '2',
    '--default.speed',
    '13.89',
    '--default-junction-type',
    'traffic_light',
    '--tls.default-type',
    'static',
    '--seed',
    '1',
    '-o',
    'grid.net.xml',
  ]);
  run('python3', [
    join(SUMO_HOME, 'tools', 'randomTrips.py'),
    '-n',
    'grid.net.xml',
    '-b',
    '0',
    '-e',
    String(o.endS),
    '--insertion-rate',
    String(o.rateVph),
    '--seed',
    '7',
    '--min-distance',
    '300',
    '--trip-attributes',
    'departLane="best" departSpeed="max"',
    '--validate',
    '-o',
    'trips.xml',
    '-r',
    'routes.rou.xml',
  ]);
  const net = sumoNetToNetwork({ netXml: join(dir, 'grid.net.xml') }) as {
    features: Array<{ properties: Record<string, unknown> }>;
  };
  const loops = net.features
    .filter((f) => f.properties.kind === 'road')
    .flatMap((f) =>
      Array.from({ length: f.properties.lanes as number }, (_, i) => {
        const id = f.properties.road_id as string;
        const pos = (f.properties.length_m as number) - 30;
        return `    <inductionLoop id="e1_${id}_${i}" lane="${id}_${i}" pos="${pos.toFixed(2)}" period="60" file="e1.out.xml"/>`;
      }),
    );
  writeFileSync(join(dir, 'detectors.add.xml'), `<additional>\n${loops.join('\n')}\n</additional>\n`);
  const duration = o.incidentEndS - o.incidentBeginS;
  const blocker = (
    lane: number,
  ) => `    <vehicle id="incident_${lane}" type="blocker" depart="${o.incidentBeginS - 5}" departLane="${lane}" departPos="35" departSpeed="0">
        <route edges="B0B1"/>
        <stop lane="B0B1_${lane}" endPos="40" duration="${duration}"/>
    </vehicle>`;
  writeFileSync(
    join(dir, 'incident.rou.xml'),
    `<routes>\n    <vType id="blocker" vClass="passenger"><param key="has.rerouting.device" value="false"/></vType>\n${blocker(0)}\n${blocker(1)}\n</routes>\n`,
  );
  writeFileSync(
    join(dir, 'scenario.sumocfg'),
    `<configuration>
    <input>
        <net-file value="grid.net.xml"/>
        <route-files value="routes.rou.xml,incident.rou.xml"/>
        <additional-files value="detectors.add.xml"/>
    </input>
    <time><begin value="0"/><end value="${o.endS}"/></time>
    <random_number><seed value="42"/></random_number>
</configuration>
`,
  );
  const full = sumoNetToNetwork({
    netXml: join(dir, 'grid.net.xml'),
    detectorsXml: join(dir, 'detectors.add.xml'),
  });
  writeFileSync(join(dir, 'network.geojson'), JSON.stringify(full));
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify({
      t0: '2026-03-02T07:00:00Z',
      incidents: [0, 1].map((lane) => ({
        road_id: 'B0B1',
        vehicle: `incident_${lane}`,
        actual_begin_s: o.incidentBeginS,
        actual_end_s: o.incidentEndS,
      })),
    }),
  );
  return dir;
}
