/**
 * The exported mosquitto.conf against a real Mosquitto 2.0: agents over TLS (wrong CA and missing
 * client certificate refused), a client id bound to the username (no session takeover), the stated
 * max_packet_size, and a password file that is always 0600.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MQTT_LIMITS, topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestPki, makeTestPki } from '../../test-support/certs.js';
import { openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import { writeMosquittoConfig } from '../src/mqtt/mosquitto-config.js';
import { createAgent, setAgentDisabled } from '../src/store/agents.js';
import { TEST_MOSQUITTO_LINES, freePort, spawnMosquitto, stopProcess } from './mosquitto.js';

describe('mosquitto-config: TLS listener, client id bound to the username, max_packet_size, 0600', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cityflow-mosq-tls-'));
  const creds: Record<string, { agent_id: string; username: string; password: string }> = {};
  let pki: TestPki;
  let proc: ChildProcess;
  let tlsPort: number;
  let hubPort: number;
  let ca: Buffer;

  beforeAll(async () => {
    pki = await makeTestPki();
    ca = readFileSync(pki.ca);
    const db = await openDb(`pglite://${join(dir, 'db')}`);
    await migrate(db);
    for (const id of ['A1', 'A2', 'OFF']) creds[id] = (await createAgent(db, id))!;
    await setAgentDisabled(db, 'OFF', true);
    // a password file left world-readable by hand: the export must tighten it
    writeFileSync(join(dir, 'passwd'), 'old\n', { mode: 0o644 });
    [hubPort, tlsPort] = [await freePort(), await freePort()];
    await writeMosquittoConfig(db, dir, 'hub-secret-1', {
      hub: { port: hubPort, bind: '127.0.0.1' },
      agentTls: { port: tlsPort, cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
    });
    await db.close();
    const conf = join(dir, 'test.conf');
    writeFileSync(
      conf,
      [readFileSync(join(dir, 'mosquitto.conf'), 'utf8'), ...TEST_MOSQUITTO_LINES, ''].join('\n'),
    );
    proc = await spawnMosquitto(conf, tlsPort);
  });
  afterAll(async () => {
    if (proc) await stopProcess(proc);
  });

  const agentOpts = async (id: string, clientAs = id): Promise<mqtt.IClientOptions> => {
    const c = await pki.client(id);
    return {
      ca,
      cert: readFileSync(c.cert),
      key: readFileSync(c.key),
      clientId: `agent:${clientAs}`,
      username: creds[id]!.username,
      password: creds[id]!.password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    };
  };
  const url = () => `mqtts://127.0.0.1:${tlsPort}`;

  it('writes the password file 0600 even over an existing 0644 one, without disabled agents', () => {
    expect(statSync(join(dir, 'passwd')).mode & 0o777).toBe(0o600);
    const users = readFileSync(join(dir, 'passwd'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(':')[0]);
    expect(users).toEqual(['cityflow-hub', 'A1', 'A2']);
  });

  it('an agent over TLS (pinned CA, client certificate) reaches the hub listener', async () => {
    const hub = await mqtt.connectAsync(`mqtt://127.0.0.1:${hubPort}`, {
      clientId: 'hub:test',
      username: 'cityflow-hub',
      password: 'hub-secret-1',
      reconnectPeriod: 0,
    });
    const got: string[] = [];
    hub.on('message', (t) => got.push(t));
    await hub.subscribeAsync(topics.hubUplinkFilter(), { qos: 1 });
    const a1 = await mqtt.connectAsync(url(), await agentOpts('A1'));
    await a1.publishAsync(topics.uplink('A1', 'health'), '{}', { qos: 1 });
    await expect.poll(() => got, { timeout: 10_000 }).toContain(topics.uplink('A1', 'health'));
    await a1.endAsync();
    await hub.endAsync();
  });

  it('refuses a client pinning another CA, and an agent without a client certificate', async () => {
    await expect(
      mqtt.connectAsync(url(), { ...(await agentOpts('A1')), ca: readFileSync(pki.otherCa) }),
    ).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    const { cert: _c, key: _k, ...noCert } = await agentOpts('A1');
    await expect(mqtt.connectAsync(url(), noCert)).rejects.toThrow();
  });

  it('agent A connecting as agent:B does not take over B’s session (use_username_as_clientid)', async () => {
    const b = await mqtt.connectAsync(url(), await agentOpts('A2'));
    let kicked = false;
    b.on('close', () => {
      kicked = true;
    });
    const a = await mqtt.connectAsync(url(), await agentOpts('A1', 'A2'));
    // Mosquitto disconnects the old session before it sends CONNACK to the new one: B is still up now,
    // and a publish round trip proves it.
    expect(kicked).toBe(false);
    await b.publishAsync(topics.uplink('A2', 'health'), '{}', { qos: 1 });
    expect(kicked).toBe(false);
    await a.endAsync();
    await b.endAsync();
  });

  it(`drops a client whose packet exceeds max_packet_size (${MQTT_LIMITS.hubPacketMaxBytes} B)`, async () => {
    const a = await mqtt.connectAsync(url(), await agentOpts('A1'));
    const gone = new Promise<void>((r) => a.once('close', () => r()));
    a.publish(topics.uplink('A1', 'summary'), Buffer.alloc(MQTT_LIMITS.hubPacketMaxBytes + 1), { qos: 1 });
    await gone;
    a.end(true);
  });

  it('a disabled agent cannot log in', async () => {
    const c = await pki.client('OFF');
    await expect(
      mqtt.connectAsync(url(), {
        ca,
        cert: readFileSync(c.cert),
        key: readFileSync(c.key),
        clientId: 'agent:OFF',
        username: 'OFF',
        password: creds.OFF!.password,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
    ).rejects.toThrow(/Not authorized|Bad user/i);
  });

  it('what holds with an external broker: disable + re-export + SIGHUP ends the live session and refuses new logins', async () => {
    const live = await mqtt.connectAsync(url(), await agentOpts('A2'));
    const ended = new Promise<void>((r) => live.once('close', () => r()));
    const db = await openDb(`pglite://${join(dir, 'db')}`);
    try {
      await setAgentDisabled(db, 'A2', true);
      await writeMosquittoConfig(db, dir, 'hub-secret-1', {
        hub: { port: hubPort, bind: '127.0.0.1' },
        agentTls: { port: tlsPort, cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
      });
    } finally {
      await db.close();
    }
    proc.kill('SIGHUP');
    await expect
      .poll(
        async () =>
          mqtt.connectAsync(url(), await agentOpts('A2')).then(
            (c) => {
              c.end(true);
              return 'in';
            },
            () => 'refused',
          ),
        {
          timeout: 10_000,
        },
      )
      .toBe('refused');
    // Mosquitto 2.0 re-checks connected clients against the reloaded password file
    await ended;
    live.end(true);
  });
});
