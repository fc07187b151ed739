#!/usr/bin/env node
/**
 * Simulator fleet throughput: readings generated and published per second (QoS 1, acknowledged) to
 * a real aedes broker over TCP, against a peer in the same run: plain mqtt.js publishing the same
 * number of pre-serialised readings. ratio = fleet / peer (1.0 = the traffic model costs nothing).
 * Bounded: ~3 s per side.
 */
import { createServer } from 'node:net';
import { DEFAULT_NETWORK_FILE, loadNetworkFile, topics } from '@cityflow/protocol';
import { BrokerPool, NormalScenario, SensorFleet, SimClock } from '@cityflow/simulator';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { pino } from 'pino';

const SECONDS = 3;
const log = pino({ level: 'silent' });
const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `mqtt://127.0.0.1:${server.address().port}`;
const net = loadNetworkFile(DEFAULT_NETWORK_FILE);

// Fleet: full rounds (every sensor) as fast as the broker acknowledges them.
const pool = new BrokerPool(new Map([...net.agents.keys()].map((a) => [a, url])), 1, log);
await pool.start();
const clock = new SimClock('data', Date.parse('2026-03-02T08:00:00Z'), 60);
const fleet = new SensorFleet({
  network: net,
  pool,
  scenario: new NormalScenario({ network: net, utcOffsetH: 0 }),
  clock,
  intervalS: 3600,
  log,
});
let t0 = performance.now();
let fleetReadings = 0;
while (performance.now() - t0 < SECONDS * 1000) fleetReadings += await fleet.tick();
const fleetRate = fleetReadings / ((performance.now() - t0) / 1000);
await pool.stop();

// Peer: the same broker, the same batch size, payloads built once.
const client = await mqtt.connectAsync(url);
const sample = [...net.sensors.values()].map((s) => ({
  topic: topics.sensor(s.sensor_id),
  payload: JSON.stringify({
    ts: '2026-03-02T08:00:00Z',
    sensor_id: s.sensor_id,
    road_id: s.road_id,
    speed_kmh: 27.5,
    flow_rate: 540,
    occupancy: 0.11,
  }),
}));
t0 = performance.now();
let peerReadings = 0;
while (performance.now() - t0 < SECONDS * 1000) {
  await Promise.all(sample.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
  peerReadings += sample.length;
}
const peerRate = peerReadings / ((performance.now() - t0) / 1000);
await client.endAsync();
await new Promise((r) => broker.close(r));
server.close();

console.log(
  JSON.stringify({
    name: 'sim-fleet',
    metrics: { readings_per_s: Math.round(fleetRate), sensors: net.sensors.size, qos: 1 },
    peer: { name: 'mqtt.js, pre-serialised payloads', readings_per_s: Math.round(peerRate) },
    ratio: Math.round((fleetRate / peerRate) * 1000) / 1000,
  }),
);
