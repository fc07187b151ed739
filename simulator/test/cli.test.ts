import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateReading } from '@cityflow/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker } from './helpers/broker.js';

/** The CLI runs from dist (built by `npm ci`'s prepare, or `npx tsc -b`), as users run it. */
const BIN = fileURLToPath(new URL('../bin/cityflow-sim.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cf-sim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('cityflow-sim binary', () => {
  it('run: publishes every sensor of the default network to a broker for --duration, then exits 0', async () => {
    const b = await startBroker();
    try {
      const r = await run([
        'run',
        '--broker',
        b.url,
        '--interval',
        '0.5',
        '--duration',
        '1.2',
        '--scenario',
        'incident',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const sensors = new Set(b.messages.map((m) => JSON.parse(m.payload).sensor_id));
      // The default network (protocol/networks/paris-district.geojson) has 128 sensors; 3 rounds in 1.2 s.
      expect(sensors.size).toBe(128);
      expect(b.messages.length).toBeGreaterThanOrEqual(2 * 128);
      for (const m of b.messages.slice(0, 50)) expect(validateReading(JSON.parse(m.payload)).ok).toBe(true);
    } finally {
      await b.stop();
    }
  });

  it('run: stops cleanly on SIGTERM (exit 0, broker connection closed)', async () => {
    const b = await startBroker();
    try {
      const child = spawn(process.execPath, [BIN, 'run', '--broker', b.url, '--interval', '0.2'], {
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const deadline = Date.now() + 15_000;
      while (b.messages.length < 128 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(b.messages.length).toBeGreaterThanOrEqual(128);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const count = b.messages.length;
      await new Promise((r) => setTimeout(r, 400));
      expect(b.messages.length).toBe(count);
    } finally {
      await b.stop();
    }
  });

  it('run: without demo.json or --broker, says how to get one and exits 1', async () => {
    const r = await run(['run', '--demo', join(dir, 'none.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CF_INVALID_CONFIG');
    expect(r.stderr).toContain('start `cityflow-sim demo` first');
  });

  it('sumo: a seed that is not a whole number is refused before anything starts', async () => {
    const r = await run(['sumo', '--scenario', dir, '--sumo-seed', '1.5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--sumo-seed: must be a whole number 1..2147483647, got 1.5');
  });

  it('demo: a busy port is a clear error before anything starts', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '0.0.0.0', r));
    const busy = (srv.address() as AddressInfo).port;
    try {
      const dataDir = join(dir, 'demo-busy');
      const r = await run(['demo', '--no-sim', '--data-dir', dataDir, '--port', String(busy)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `CF_PORT_IN_USE: cannot start the demo: port ${busy} (hub API) is already in use`,
      );
      expect(existsSync(join(dataDir, 'hub'))).toBe(false);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  it('replay: streams a CSV to one broker and prints its stats as JSON on stdout', async () => {
    const b = await startBroker();
    try {
      const csv = join(dir, 'replay.csv');
      writeFileSync(
        csv,
        [
          'ts,sensor_id,road_id,speed_kmh,flow_rate,occupancy',
          '2026-03-02T06:00:00Z,x-1,R1,30.5,120,0.05',
          '2026-03-02T06:01:00Z,x-1,R1,,0,0.000',
          '2026-03-02T06:01:00Z,x-2,R1,-4,60,0.01',
        ].join('\n'),
      );
      const r = await run(['replay', '--csv', csv, '--broker', b.url, '--speedup', '0']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        rows: 3,
        published: 2,
        invalid: 1,
        firstTs: '2026-03-02T06:00:00Z',
      });
      expect(b.messages.map((m) => m.topic)).toEqual(['cityflow/traffic/x-1', 'cityflow/traffic/x-1']);
    } finally {
      await b.stop();
    }
  });

  it('demo: an invalid network file is refused before anything starts', async () => {
    const bad = join(dir, 'bad.geojson');
    writeFileSync(bad, JSON.stringify({ type: 'FeatureCollection', features: [] }));
    const r = await run(['demo', '--network', bad, '--data-dir', join(dir, 'demo-bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CF_INVALID_NETWORK');
    expect(existsSync(join(dir, 'demo-bad'))).toBe(false);
  });

  it('rejects a bad flag with its name', async () => {
    const r = await run(['run', '--qos', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--qos: must be 0 or 1, got 2');
  });
});
