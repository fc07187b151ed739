import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exited, runCli, spawnAgent } from './helpers/child.js';
import { FakeHub } from './helpers/fake-hub.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

describe('cityflow-agent CLI (built binary)', () => {
  const cleanups = useCleanups();

  it('SIGTERM stops gracefully: commits, says offline to the hub, exits 0; status --json reads the file', async () => {
    const hub = new FakeHub({ agentId: 'A-7', password: 'pw' });
    await hub.start();
    const tmp = tempDir();
    cleanups.push(tmp.cleanup, () => hub.stop());
    const cfg = join(tmp.dir, 'agent.yaml');
    writeFileSync(cfg, `agentId: A-7\nhubUsername: A-7\nhubPassword: pw\nmqttPort: 0\nhttpPort: 0\n`);
    const { child, ready } = await spawnAgent([
      '--config',
      cfg,
      '--data-dir',
      join(tmp.dir, 'data'),
      '--hub-url',
      hub.url,
    ]);
    cleanups.push(() => void child.kill('SIGKILL'));
    expect(ready.agent_id).toBe('A-7');
    await waitFor(() => hub.statuses.includes('online'), 'online at the hub');
    const c = await connect(ready.mqtt_url);
    for (let i = 0; i < 50; i++) await pub(c, 'S-1', reading('S-1', 'R-1', Date.now() - i * 100), 0);
    await c.endAsync();
    const viaHttp = await runCli(['status', '--url', ready.http_url, '--json']);
    expect(viaHttp.code).toBe(0);
    expect(JSON.parse(viaHttp.stdout)).toMatchObject({ agent_id: 'A-7', hub_connected: true, running: true });
    child.kill('SIGTERM');
    const { code } = await exited(child);
    expect(code).toBe(0);
    await waitFor(() => hub.statuses.at(-1) === 'offline', 'offline status on graceful stop');

    const st = await runCli(['status', '--data-dir', join(tmp.dir, 'data'), '--json']);
    expect(st.code).toBe(0);
    const doc = JSON.parse(st.stdout);
    // QoS 0 readings queued before SIGTERM were flushed and committed, not dropped
    expect(doc).toMatchObject({
      agent_id: 'A-7',
      readings_total: 50,
      quarantined_total: 0,
      hub_connected: false,
      running: false,
    });
    expect(doc).toHaveProperty('outbox_pending');
    expect(doc).toHaveProperty('outbox_oldest_age_s');

    const stats = await runCli(['buffer', 'stats', '--data-dir', join(tmp.dir, 'data'), '--json']);
    expect(JSON.parse(stats.stdout).readings).toBe(50);
    const exp = await runCli(['buffer', 'export', '--what', 'readings', '--data-dir', join(tmp.dir, 'data')]);
    expect(exp.stdout.trim().split('\n')).toHaveLength(50);
  }, 30_000);

  it('a port already in use fails with a clear error naming the port and the flag', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, r));
    const port = (srv.address() as { port: number }).port;
    const tmp = tempDir();
    cleanups.push(tmp.cleanup, () => new Promise<void>((r) => srv.close(() => r())));
    const r = await runCli([
      'run',
      '--agent-id',
      'A-1',
      '--data-dir',
      tmp.dir,
      '--mqtt-port',
      String(port),
      '--http-port',
      '0',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `CF_PORT_IN_USE: port ${port} is already in use (set another with --mqtt-port)`,
    );
    const h = await runCli([
      'run',
      '--agent-id',
      'A-1',
      '--data-dir',
      tmp.dir,
      '--mqtt-port',
      '0',
      '--http-port',
      String(port),
    ]);
    expect(h.code).not.toBe(0);
    expect(h.stderr).toContain('--http-port');
  });

  it('config check reports every error at once and exits 1; a good file passes', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const bad = join(tmp.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ agentId: 'has space', mqttPort: 70000, clock: 'sundial', nope: 1 }));
    const r = await runCli(['config', 'check', bad, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    const text = doc.errors.join('\n');
    for (const k of ['agentId', 'mqttPort', 'clock']) expect(text).toContain(k);
    expect(doc.errors.length).toBeGreaterThanOrEqual(4);
    const good = join(tmp.dir, 'good.yaml');
    writeFileSync(good, 'agentId: A-1\nhubUrl: mqtt://hub:1884\nclock: data\ndrainRatePerS: 2000\n');
    const ok = await runCli(['config', 'check', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok');
    // run refuses a bad config before binding anything
    const run = await runCli(['run', '--config', bad]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('CF_INVALID_CONFIG');
  });

  it('doctor reports each check with a fix and exits 1 when one fails (bad hub credentials)', async () => {
    const hub = new FakeHub({ agentId: 'A-1', password: 'right' });
    await hub.start();
    const tmp = tempDir();
    cleanups.push(tmp.cleanup, () => hub.stop());
    const r = await runCli([
      'doctor',
      '--data-dir',
      tmp.dir,
      '--mqtt-port',
      '0',
      '--hub-url',
      hub.url,
      '--hub-username',
      'A-1',
      '--hub-password',
      'wrong',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    const byName = Object.fromEntries(doc.checks.map((c: { name: string }) => [c.name, c]));
    expect(byName.hub.ok).toBe(false);
    expect(byName.hub.fix).toMatch(/credentials|agents add/);
    expect(byName.disk.ok).toBe(true);
    expect(byName.sqlite.ok).toBe(false); // no buffer yet in an empty dir
    const good = await runCli([
      'doctor',
      '--data-dir',
      tmp.dir,
      '--mqtt-port',
      '0',
      '--hub-url',
      hub.url,
      '--hub-username',
      'A-1',
      '--hub-password',
      'right',
      '--json',
    ]);
    expect(JSON.parse(good.stdout).checks.find((c: { name: string }) => c.name === 'hub').ok).toBe(true);
  }, 20_000);

  it('tail prints live readings filtered by sensor, as NDJSON with --json', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const { child, ready } = await spawnAgent([
      '--agent-id',
      'A-1',
      '--data-dir',
      tmp.dir,
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
    ]);
    cleanups.push(() => void child.kill('SIGKILL'));
    const tail = runCli(['tail', '--url', ready.mqtt_url, '--sensor', 'S-2', '--count', '2', '--json']);
    const c = await connect(ready.mqtt_url);
    cleanups.push(() => void c.end(true));
    // keep publishing until tail (a separate process) has subscribed and seen two S-2 readings
    let done = false;
    void tail.then(() => {
      done = true;
    });
    for (let i = 0; !done && i < 200; i++) {
      await pub(c, 'S-1', reading('S-1', 'R-1', Date.now()));
      await pub(c, 'S-2', reading('S-2', 'R-2', Date.now(), 33));
      await new Promise((r) => setTimeout(r, 25));
    }
    const out = await tail;
    expect(out.code).toBe(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.sensor_id === 'S-2' && l.speed_kmh === 33)).toBe(true);
  }, 20_000);

  it('--help teaches with examples', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--hub-url');
  });
});
