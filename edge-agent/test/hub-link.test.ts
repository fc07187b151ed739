import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { redactUrl } from '../src/redact.js';
import { HubLink } from '../src/uplink/hub-link.js';
import { FakeHub } from './helpers/fake-hub.js';
import { tempDir, useCleanups, waitFor } from './helpers/util.js';

function capturingLogger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

describe('hub link', () => {
  const cleanups = useCleanups();

  it('redactUrl (the one of @cityflow/protocol) hides the password and keeps the rest', () => {
    expect(redactUrl('mqtts://A-01:s3cret@hub.example:8883')).toBe(
      'mqtts://A-01:[REDACTED]@hub.example:8883',
    );
    expect(redactUrl('mqtt://A-01@hub.example:1883/x')).toBe('mqtt://A-01@hub.example:1883/x');
    expect(redactUrl('mqtt://hub.example:1883')).toBe('mqtt://hub.example:1883');
    expect(redactUrl('not a url s3cret')).toBe('(unparsable url)');
  });

  it('never logs or reports the credentials of a --hub-url', async () => {
    const hub = new FakeHub({ agentId: 'A-1' });
    await hub.start();
    const url = `mqtt://A-1:s3cret-pw@127.0.0.1:${hub.port}`;
    const { log, lines } = capturingLogger();
    const link = new HubLink(
      { url, agentId: 'A-1', version: 't', backoffBaseMs: 10, backoffMaxMs: 50 },
      { connected() {}, subscribed() {}, disconnected() {}, message() {} },
      log,
    );
    cleanups.push(() => hub.stop());
    link.start();
    await waitFor(() => link.connected, 'connected');
    await waitFor(() => lines.some((l) => l.includes('hub connected')), 'connect logged');
    expect(lines.join('')).not.toContain('s3cret-pw');
    expect(lines.join('')).toContain(`mqtt://A-1:[REDACTED]@127.0.0.1:${hub.port}`);
    await link.stop(); // the agent below uses the same client id

    const tmp = tempDir();
    const agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir, hubUrl: url });
    cleanups.push(tmp.cleanup, () => agent.stop());
    await waitFor(() => agent.status().hub_connected, 'agent connected');
    expect(agent.status().hub_url).toBe(`mqtt://A-1:[REDACTED]@127.0.0.1:${hub.port}`);
  });
});

describe('hub link backoff on a flapping link', () => {
  const cleanups = useCleanups();

  it('keeps growing while connections drop at once; resets only after one stayed up stableMs', async () => {
    const hub = new FakeHub({ agentId: 'A-1' });
    await hub.start();
    let now = 1_000_000;
    const { log } = capturingLogger();
    const link = new HubLink(
      {
        url: hub.url,
        agentId: 'A-1',
        version: 't',
        backoffBaseMs: 5,
        backoffMaxMs: 20,
        stableMs: 30_000,
        now: () => now,
      },
      { connected() {}, subscribed() {}, disconnected() {}, message() {} },
      log,
    );
    cleanups.push(
      () => hub.stop(),
      () => link.stop(),
    );
    link.start();
    await waitFor(() => link.connected, 'connected');
    for (let i = 1; i <= 3; i++) {
      const before = hub.connects;
      hub.kickAgent();
      await waitFor(() => link.connected && hub.connects > before, `reconnect ${i}`);
      expect(link.backoffAttempt).toBe(i);
    }
    now += 31_000; // this connection has been up long enough
    const before = hub.connects;
    hub.kickAgent();
    await waitFor(() => link.connected && hub.connects > before, 'reconnect after a stable link');
    expect(link.backoffAttempt).toBe(1);
  });

  it('keeps connection errors quiet while starting, then warns once per distinct error', async () => {
    // A closed port: every attempt is refused. The clock is injected: 0 = just started.
    const probe = await import('node:net').then(({ createServer }) => createServer());
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    let nowMs = 1_000_000;
    const { log, lines } = capturingLogger();
    const link = new HubLink(
      {
        url: `mqtt://127.0.0.1:${port}`,
        agentId: 'A-2',
        version: 't',
        backoffBaseMs: 10,
        backoffMaxMs: 20,
        now: () => nowMs,
      },
      { connected() {}, subscribed() {}, disconnected() {}, message() {} },
      log,
    );
    cleanups.push(() => link.stop());
    const errors = (level: number) =>
      lines.filter((l) => l.includes('hub link error') && JSON.parse(l).level === level).length;
    link.start();
    await waitFor(() => errors(20) >= 2, 'refusals logged at debug while starting');
    expect(errors(40)).toBe(0);
    nowMs += 60_000; // past the start-up grace: the same refusal is news once, then debug again
    const before = errors(20);
    await waitFor(() => errors(20) >= before + 2, 'more refusals');
    expect(errors(40)).toBe(1);
  });
});
