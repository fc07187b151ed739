import { topics, validateReading } from '@cityflow/protocol';
import type { Command } from 'commander';
import mqtt from 'mqtt';
import { CliFailure } from './common.js';

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('print live readings from the local broker, filterable by sensor or road')
    .option('--url <url>', 'local broker url', 'mqtt://127.0.0.1:1883')
    .option('--sensor <id>', 'only this sensor')
    .option('--road <id>', 'only this road')
    .option('--count <n>', 'exit after n readings')
    .option('--json', 'NDJSON (one reading per line)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cityflow-agent tail --sensor S-042\n  $ cityflow-agent tail --url mqtt://10.0.0.5:1883 --road RING-NORTH-12 --json',
    )
    .action(async (o: { url: string; sensor?: string; road?: string; count?: string; json?: boolean }) => {
      const client = mqtt.connect(o.url, { reconnectPeriod: 0, connectTimeout: 5000 });
      let left = o.count ? Number(o.count) : Number.POSITIVE_INFINITY;
      await new Promise<void>((resolve, reject) => {
        client.once('error', (e) =>
          reject(new CliFailure(`cannot reach the local broker at ${o.url}: ${e.message}`)),
        );
        client.once('connect', () => {
          client.subscribe(o.sensor ? topics.sensor(o.sensor) : topics.sensorWildcard(), { qos: 0 });
          if (!o.json) process.stderr.write(`tailing ${o.url} (Ctrl-C to stop)\n`);
        });
        client.on('message', (topic, payload) => {
          let value: unknown;
          try {
            value = JSON.parse(payload.toString('utf8'));
          } catch {
            value = null;
          }
          const r = validateReading(value);
          if (o.road && (!r.ok || r.reading.road_id !== o.road)) return;
          if (o.json)
            process.stdout.write(
              `${JSON.stringify(r.ok ? r.reading : { topic, invalid: payload.toString('utf8') })}\n`,
            );
          else if (r.ok) {
            const x = r.reading;
            process.stdout.write(
              `${x.ts}  ${x.sensor_id.padEnd(12)} ${x.road_id.padEnd(16)} speed ${x.speed_kmh ?? '-'} km/h  flow ${x.flow_rate} veh/h  occ ${x.occupancy}\n`,
            );
          } else process.stdout.write(`${topic}  INVALID ${payload.toString('utf8').slice(0, 200)}\n`);
          if (--left <= 0) {
            client.end(true);
            resolve();
          }
        });
        process.once('SIGINT', () => {
          client.end(true);
          resolve();
        });
      });
    });
}
