import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sumoNetToNetwork } from './net-to-network.js';

export interface GridScenarioOptions {
  /** where the scenario is written (created if missing) */
  dir: string;
  /** junctions per side (SUMO names them A0, B0, … by column letter and row number) */
  size?: number;
  /** simulated seconds of random trips */
  endS: number;
  /** vehicles inserted per hour (randomTrips --insertion-rate) */
  rateVph: number;
  incidentRoad?: string;
  /** lanes of the incident road blocked (default: every lane, as a crash closing the road) */
  blockedLanes?: number[];
  incidentBeginS: number;
  incidentEndS: number;
  /** randomTrips seed (the demand), default 7 */
  seed?: number;
  sumoHome?: string;
}

/**
 * Builds a closed-loop scenario with SUMO's own tools, the way the dev scenario was made: a size×size
 * signalised grid (200 m blocks, 2 lanes, static signals), random trips for `endS` seconds, an E1 loop
 * on every lane 30 m before the stop line, and an incident: vehicles stopped on the incident road's
 * blocked lanes 40 m after its start from `incidentBeginS` to `incidentEndS`, so the loops downstream
 * of them read an empty road (or one lane's traffic) while the roads feeding it fill up. Writes the
 * `.sumocfg`, `network.geojson` and `scenario.json` that `cityflow-sim sumo --scenario DIR` reads.
 */
export function makeGridScenario(o: GridScenarioOptions): string {
  const dir = o.dir;
  mkdirSync(dir, { recursive: true });
  const sumoHome = o.sumoHome ?? process.env.SUMO_HOME ?? '/usr/share/sumo';
  const road = o.incidentRoad ?? 'B0B1';
  const lanes = o.blockedLanes ?? [0, 1];
  const run = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { cwd: dir, stdio: 'pipe', env: { ...process.env, SUMO_HOME: sumoHome } });
  run('netgenerate', [
    '--grid',
    '--grid.number',
    String(o.size ?? 3),
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
    join(sumoHome, 'tools', 'randomTrips.py'),
    '-n',
    'grid.net.xml',
    '-b',
    '0',
    '-e',
    String(o.endS),
    '--insertion-rate',
    String(o.rateVph),
    '--seed',
    String(o.seed ?? 7),
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
        <route edges="${road}"/>
        <stop lane="${road}_${lane}" endPos="40" duration="${duration}"/>
    </vehicle>`;
  writeFileSync(
    join(dir, 'incident.rou.xml'),
    `<routes>\n    <vType id="blocker" vClass="passenger"><param key="has.rerouting.device" value="false"/></vType>\n${lanes.map(blocker).join('\n')}\n</routes>\n`,
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
      incidents: lanes.map((lane) => ({
        road_id: road,
        vehicle: `incident_${lane}`,
        actual_begin_s: o.incidentBeginS,
        actual_end_s: o.incidentEndS,
      })),
    }),
  );
  return dir;
}
