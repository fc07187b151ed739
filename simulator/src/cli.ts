import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CityFlowError, DEFAULT_NETWORK_FILE, loadNetworkFile } from '@cityflow/protocol';
import { Command } from 'commander';
import { BrokerPool } from './broker-pool.js';
import { resolveBrokers } from './brokers.js';
import {
  arg,
  clockMode,
  port,
  positiveInteger,
  positiveNumber,
  qos,
  scenarioName,
  share,
  time,
  utcOffset,
} from './cli-options.js';
import { controlRequest } from './control-server.js';
import { readDemoFile } from './demo-file.js';
import { childLogLevel, DEMO_PORTS, Demo } from './demo/demo.js';
import { LoadGenerator, type LoadSensor } from './load.js';
import { createLogger } from './logger.js';
import { CsvReplay } from './replay.js';
import { Simulation } from './simulation.js';
import { registerSumoGrid } from './sumo/grid-command.js';

/** Runs until SIGINT/SIGTERM, then `stop()`; a second signal exits at once. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.once(sig, () => process.exit(130));
      void stop().then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

function brokersFor(net: ReturnType<typeof loadNetworkFile>, o: { broker?: string; demo: string }) {
  if (o.broker) return resolveBrokers(net, { broker: o.broker });
  if (!existsSync(o.demo))
    throw new CityFlowError(
      'CF_INVALID_CONFIG',
      `${o.demo} not found: start \`cityflow-sim demo\` first, or pass --demo FILE or --broker URL`,
    );
  return resolveBrokers(net, { demo: readDemoFile(o.demo) });
}

const program = new Command('cityflow-sim')
  .description('CityFlow simulator: sensor fleet, scenarios, dataset replay, the one-command demo')
  .showHelpAfterError();

program
  .command('run')
  .description("publish live readings for every sensor of the network to its agent's broker")
  .option('--network <file>', 'network file (GeoJSON)', DEFAULT_NETWORK_FILE)
  .option('--demo <file>', 'demo.json giving each agent its broker', './data/demo.json')
  .option('--broker <url>', 'publish every sensor to this one broker instead of demo.json')
  .option('--interval <s>', 'seconds between two readings of a sensor', arg(positiveNumber('--interval')), 5)
  .option('--scenario <name>', 'normal | incident', arg(scenarioName), 'normal')
  .option(
    '--speedup <n>',
    'simulated seconds per wall second (needs --clock data)',
    arg(positiveNumber('--speedup')),
    1,
  )
  .option(
    '--clock <mode>',
    'wall | data',
    arg(clockMode),
    process.env.CITYFLOW_CLOCK === 'data' ? 'data' : 'wall',
  )
  .option('--start <time>', 'simulated start time, RFC 3339 (needs --clock data)', arg(time('--start')))
  .option('--duration <s>', 'stop after this many wall seconds', arg(positiveNumber('--duration')))
  .option('--qos <0|1>', 'MQTT QoS of the readings', arg(qos), 1 as 0 | 1)
  .option('--seed <n>', 'random seed (same seed, same readings)', arg(positiveNumber('--seed')), 42)
  .option('--utc-offset <h>', "hours from UTC to the network's local time (rush hours)", arg(utcOffset), 0)
  .option(
    '--faults <share>',
    'send this share (0..1) of readings broken: bad JSON, wrong types, topic mismatch, oversize',
    arg(share),
  )
  .option('--incident-road <id>', 'incident road (default: the road with most feeders)')
  .option(
    '--incident-start <min>',
    'minutes of simulated time before the incident',
    arg(positiveNumber('--incident-start')),
    1,
  )
  .option(
    '--incident-duration <min>',
    'minutes the incident lasts',
    arg(positiveNumber('--incident-duration')),
    20,
  )
  .action(async (o) => {
    const log = createLogger('sim');
    const net = loadNetworkFile(o.network);
    const sim = new Simulation({
      network: net,
      brokers: brokersFor(net, o),
      scenario: o.scenario,
      intervalS: o.interval,
      clock: o.clock,
      speedup: o.speedup,
      startMs: o.start,
      qos: o.qos,
      seed: o.seed,
      utcOffsetH: o.utcOffset,
      incident: { roadId: o.incidentRoad, startAfterMin: o.incidentStart, durationMin: o.incidentDuration },
      faultShare: o.faults,
      log,
    });
    await sim.start();
    const stop = () => sim.stop();
    if (o.duration) {
      const timer = setTimeout(() => void stop().then(() => process.exit(0)), o.duration * 1000);
      await untilSignal(async () => {
        clearTimeout(timer);
        await stop();
      });
    } else await untilSignal(stop);
  });

program
  .command('replay')
  .description('replay a long-layout CSV (ts,sensor_id,road_id,speed_kmh,flow_rate,occupancy) to the agents')
  .requiredOption('--csv <file>', 'CSV file')
  .option('--network <file>', 'network file that maps sensors to agents', DEFAULT_NETWORK_FILE)
  .option('--demo <file>', 'demo.json giving each agent its broker', './data/demo.json')
  .option('--broker <url>', 'publish every row to this one broker (sensors outside the network too)')
  .option('--speedup <n>', 'data seconds per wall second (0 = as fast as possible)', arg(Number), 1)
  .option('--rebase', 'shift timestamps so the first row is now (for hubs and agents on the wall clock)')
  .option('--qos <0|1>', 'MQTT QoS', arg(qos), 1 as 0 | 1)
  .action(async (o) => {
    const log = createLogger('replay');
    if (!(o.speedup >= 0))
      throw new CityFlowError('CF_INVALID_CONFIG', `--speedup: must be >= 0, got ${o.speedup}`);
    const net = loadNetworkFile(o.network);
    const brokers = brokersFor(net, o);
    if (o.broker) brokers.set('*', o.broker);
    const pool = new BrokerPool(brokers, o.qos, log);
    await pool.start();
    const replay = new CsvReplay({
      csvPath: o.csv,
      network: net,
      pool,
      fallbackAgent: o.broker ? '*' : undefined,
      speedup: o.speedup === 0 ? Number.POSITIVE_INFINITY : o.speedup,
      rebaseToMs: o.rebase ? Date.now() : undefined,
      log,
    });
    const onSignal = () => replay.stop();
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    const stats = await replay.run();
    await pool.stop();
    process.stdout.write(`${JSON.stringify(stats)}\n`);
    process.exit(0);
  });

program
  .command('load')
  .description("fixed-rate load on the agents' brokers; prints sent/acked/rate/latency as JSON on stdout")
  .option('--network <file>', 'network file (its sensors, round-robin)', DEFAULT_NETWORK_FILE)
  .option('--demo <file>', 'demo.json giving each agent its broker', './data/demo.json')
  .option('--broker <url>', 'publish everything to this one broker')
  .option(
    '--sensors <n>',
    "use n synthetic sensors (load-00000...) instead of the network's (needs --broker)",
    arg(positiveNumber('--sensors')),
  )
  .option('--rate <n>', 'readings per second, all sensors together', arg(positiveNumber('--rate')), 1000)
  .option('--duration <s>', 'seconds of load', arg(positiveNumber('--duration')), 10)
  .option(
    '--max-in-flight <n>',
    'unacknowledged publishes allowed at once',
    arg(positiveNumber('--max-in-flight')),
    1000,
  )
  .option('--qos <0|1>', 'MQTT QoS', arg(qos), 1 as 0 | 1)
  .action(async (o) => {
    const log = createLogger('load');
    let sensors: LoadSensor[];
    let brokers: Map<string, string>;
    if (o.sensors) {
      if (!o.broker)
        throw new CityFlowError(
          'CF_INVALID_CONFIG',
          '--sensors needs --broker (synthetic sensors have no agent)',
        );
      sensors = Array.from({ length: Math.floor(o.sensors) }, (_, i) => {
        const id = `load-${String(i).padStart(5, '0')}`;
        return { sensorId: id, roadId: `${id}-road`, agentId: '*' };
      });
      brokers = new Map([['*', o.broker]]);
    } else {
      const net = loadNetworkFile(o.network);
      brokers = brokersFor(net, o);
      sensors = [...net.sensors.values()].map((s) => ({
        sensorId: s.sensor_id,
        roadId: s.road_id,
        agentId: s.agent_id,
      }));
    }
    const pool = new BrokerPool(brokers, o.qos, log);
    await pool.start();
    const stats = await new LoadGenerator({
      pool,
      sensors,
      ratePerS: o.rate,
      durationS: o.duration,
      maxInFlight: Math.floor(o.maxInFlight),
      log,
    }).run();
    await pool.stop();
    process.stdout.write(`${JSON.stringify(stats)}\n`);
    process.exit(stats.failed > 0 ? 1 : 0);
  });

program
  .command('demo')
  .description('the whole city on one machine: hub, one agent per agent of the network, simulator')
  .option('--network <file>', 'network file (GeoJSON)', DEFAULT_NETWORK_FILE)
  .option('--no-sim', 'do not start the simulator (feed the sensors from outside)')
  .option('--data-dir <dir>', 'where the hub, the agents and demo.json live', './data')
  .option(
    '--clock <mode>',
    'wall | data (every process)',
    arg(clockMode),
    process.env.CITYFLOW_CLOCK === 'data' ? 'data' : 'wall',
  )
  .option('--port <n>', 'hub HTTP port (console + API)', arg(port('--port')), DEMO_PORTS.api)
  .option(
    '--hub-mqtt-port <n>',
    'hub MQTT port (agents connect here)',
    arg(port('--hub-mqtt-port')),
    DEMO_PORTS.hubMqtt,
  )
  .option(
    '--agent-port-base <n>',
    `agent i gets MQTT port n+i and HTTP port n+${DEMO_PORTS.httpOffset}+i`,
    arg(port('--agent-port-base')),
    DEMO_PORTS.agentBase,
  )
  .option('--scenario <name>', 'simulator scenario: normal | incident', arg(scenarioName), 'incident')
  .option('--interval <s>', 'seconds between two readings of a sensor', arg(positiveNumber('--interval')), 5)
  .option(
    '--startup-timeout <s>',
    'how long to wait for the hub and the agents',
    arg(positiveNumber('--startup-timeout')),
    90,
  )
  .action(async (o) => {
    // Quiet by default like its children (see childLogLevel): the banner is what a user needs.
    const log = createLogger('demo', childLogLevel());
    const demo = new Demo({
      networkFile: o.network,
      dataDir: o.dataDir,
      noSim: !o.sim,
      clock: o.clock,
      port: o.port,
      hubMqttPort: o.hubMqttPort,
      agentPortBase: o.agentPortBase,
      scenario: o.scenario,
      intervalS: o.interval,
      startupTimeoutS: o.startupTimeout,
      log,
    });
    const onSignal = (sig: NodeJS.Signals) => {
      log.info({ signal: sig }, 'stopping the demo');
      process.once(sig, () => process.exit(130));
      void demo.stop(0);
    };
    // SIGHUP too: closing the terminal that runs `npm start` must not orphan the hub and the agents.
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal).once('SIGHUP', onSignal);
    await demo.start();
    process.exit(await demo.exited);
  });

program
  .command('sumo')
  .description(
    'closed-loop evaluation on SUMO: no advice, CityFlow advice (hub + agents on the data clock), SUMO rerouting device',
  )
  .requiredOption(
    '--scenario <dir>',
    'a .sumocfg, its network.geojson and scenario.json (incident or incidents)',
  )
  .option(
    '--compliance <share>',
    'probability a driver follows advice (per vehicle and road)',
    arg(share),
    0.5,
  )
  .option('--report <file>', 'write the JSON report here (also printed on stdout)')
  .option('--out <dir>', 'where SUMO outputs and the city go (default: a new temp dir)')
  .option(
    '--realtime-factor <n>',
    'simulated seconds per wall second (0 = as fast as the hub keeps up)',
    arg(Number),
    0,
  )
  .option('--seed <n>', 'seed of the compliance draws', arg(positiveNumber('--seed')), 42)
  .option(
    '--sumo-seed <n>',
    "SUMO's random seed for all three runs (default: the sumocfg's); compare planners over several",
    arg(positiveInteger('--sumo-seed')),
  )
  .option(
    '--until <s>',
    'stop every run at this simulation time (s) instead of the scenario end',
    arg(positiveNumber('--until')),
  )
  .action(async (o) => {
    const { loadScenario } = await import('./sumo/scenario.js');
    const { evaluate } = await import('./sumo/evaluate.js');
    if (!(o.realtimeFactor >= 0))
      throw new CityFlowError(
        'CF_INVALID_CONFIG',
        `--realtime-factor: must be >= 0, got ${o.realtimeFactor}`,
      );
    const scenario = loadScenario(o.scenario);
    if (o.until) scenario.endS = Math.min(scenario.endS, o.until);
    if (o.sumoSeed !== undefined) scenario.sumoSeed = o.sumoSeed;
    const outDir = o.out ?? mkdtempSync(join(tmpdir(), 'cityflow-sumo-'));
    const log = createLogger('sumo', childLogLevel());
    const report = await evaluate({
      scenario,
      outDir,
      compliance: o.compliance,
      realtimeFactor: o.realtimeFactor,
      seed: o.seed,
      log,
    });
    const text = `${JSON.stringify(report, null, 2)}\n`;
    if (o.report) writeFileSync(o.report, text);
    process.stdout.write(text);
    process.exit(0);
  });

registerSumoGrid(program);

program
  .command('incident')
  .description("start, end or list incidents in the running demo's simulator (its control endpoint)")
  .argument('<action>', 'start | end | list')
  .option('--road <id>', 'the road (start, end)')
  .option('--demo <file>', 'demo.json of the running demo (gives the control endpoint)', './data/demo.json')
  .option('--json', 'print the answer as one JSON document')
  .action(async (action: string, o: { road?: string; demo: string; json?: boolean }) => {
    if (!['start', 'end', 'list'].includes(action))
      throw new CityFlowError('CF_INVALID_CONFIG', `action: expected start, end or list, got ${action}`);
    if (action !== 'list' && !o.road)
      throw new CityFlowError('CF_INVALID_CONFIG', '--road: required to start or end');
    if (!existsSync(o.demo))
      throw new CityFlowError('CF_INVALID_CONFIG', `${o.demo} not found: is \`cityflow-sim demo\` running?`);
    const control = readDemoFile(o.demo).control;
    if (!control)
      throw new CityFlowError(
        'CF_INVALID_CONFIG',
        `${o.demo} has no control endpoint (demo started with --no-sim?)`,
      );
    const answer =
      action === 'list'
        ? await controlRequest(control, 'GET')
        : await controlRequest(control, 'POST', { action, road_id: o.road });
    if (o.json) process.stdout.write(`${JSON.stringify(answer)}\n`);
    else if (action === 'list') {
      const list = (
        answer as { incidents: { road_id: string; started_at: string; ended_at: string | null }[] }
      ).incidents;
      process.stdout.write(
        list.length
          ? `${list.map((i) => `${i.road_id}  since ${i.started_at}${i.ended_at ? `  ended ${i.ended_at}` : ''}`).join('\n')}\n`
          : 'no incident\n',
      );
    } else {
      const i = (answer as { incident: { road_id: string; started_at: string; ended_at: string | null } })
        .incident;
      process.stdout.write(
        action === 'start'
          ? `incident on ${i.road_id} since ${i.started_at} (simulated time)\n`
          : `incident on ${i.road_id} ended at ${i.ended_at} (its queue clears over a few minutes)\n`,
      );
    }
  });

program.parseAsync().catch((err: unknown) => {
  const e = err as Error & { code?: string };
  process.stderr.write(`${e instanceof CityFlowError ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(1);
});
