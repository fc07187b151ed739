import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '@cityflow/edge-agent';
import { startHub } from '@cityflow/hub';
import { topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { closedMinute, freePort, iso, waitUntil, writeFixtureNetwork } from './helpers/http.js';

/**
 * Issue 10, fault 1: a wiped agent and a restored SD image, with a real hub (embedded broker, PGlite)
 * and real agents (SQLite files, their own brokers) over real sockets. The hub must end with exactly
 * the readings the sensors sent, per minute: nothing dropped as a duplicate, nothing counted twice.
 */
describe('e2e: agent incarnations (wiped agent, restored SD image)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-incarnation-'));
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  });

  async function hubWithAgent() {
    const hub = await startHub({
      databaseUrl: 'pglite://memory',
      port: 0,
      mqttPort: 0,
      host: '127.0.0.1',
      jwtSecret: 'incarnation-secret-0123456789abcdef',
      networkFile: writeFixtureNetwork(mkdtempSync(join(dir, 'net-'))),
      clock: 'wall',
      logLevel: 'silent',
    });
    stops.push(() => hub.stop());
    return { hub, cred: await hub.addAgent('agent-1') };
  }

  /** An agent on `dataDir`; `online: false` points it at a port nobody listens on (the hub unreachable). */
  async function agentOn(dataDir: string, ctx: Awaited<ReturnType<typeof hubWithAgent>>, online: boolean) {
    const agent = await startAgent({
      agentId: 'agent-1',
      dataDir,
      mqttPort: 0,
      httpPort: 0,
      hubUrl: online ? ctx.hub.mqttUrl : `mqtt://127.0.0.1:${await freePort()}`,
      hubUsername: ctx.cred.username,
      hubPassword: ctx.cred.password,
      clock: 'wall',
      liveIntervalS: 3600,
      forecastIntervalS: 3600,
    });
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await agent.stop();
    };
    stops.push(stop);
    return { agent, stop };
  }

  const summaryPending = (agent: Awaited<ReturnType<typeof startAgent>>) =>
    (agent.status().streams as { summary: { pending: number } }).summary.pending;

  /**
   * `n` readings of sensor s-AB-0 in the minute starting at `minute`; resolves once that minute is
   * summarised into the outbox (offline) or stored by the hub (online).
   */
  async function feed(
    agent: Awaited<ReturnType<typeof startAgent>>,
    minute: number,
    n: number,
    hub?: Awaited<ReturnType<typeof hubWithAgent>>['hub'],
  ) {
    const before = agent.status().readings_total as number;
    const pendingBefore = summaryPending(agent);
    const sensor = await mqtt.connectAsync(agent.mqttUrl, { clientId: `sensor-${minute}` });
    for (let i = 0; i < n; i++)
      await sensor.publishAsync(
        topics.sensor('s-AB-0'),
        JSON.stringify({
          ts: iso(minute + 1000 * (i + 1)),
          sensor_id: 's-AB-0',
          road_id: 'AB',
          speed_kmh: 30 + i,
          flow_rate: 600,
          occupancy: 0.1,
        }),
        { qos: 1 },
      );
    await sensor.endAsync();
    await waitUntil(
      'readings stored by the agent',
      async () => (agent.status().readings_total as number) === before + n,
    );
    if (hub)
      await waitUntil(
        'the minute stored by the hub',
        async () => (await perMinute(hub))[new Date(minute).toISOString()] === n,
        60_000,
      );
    else
      await waitUntil(
        'the minute summarised into the outbox',
        async () => summaryPending(agent) === pendingBefore + 1,
        60_000,
      );
  }

  const perMinute = async (hub: Awaited<ReturnType<typeof hubWithAgent>>['hub']) =>
    Object.fromEntries(
      (
        await hub.db.query<{ minute: Date; n: number }>(
          'SELECT minute, sum(count)::int AS n FROM traffic_minute GROUP BY minute ORDER BY minute',
        )
      ).rows.map((r) => [new Date(r.minute).toISOString(), r.n]),
    );
  const pendingOf = (agent: Awaited<ReturnType<typeof startAgent>>) =>
    agent.status().outbox_pending as number;

  it('a wiped agent that produced more rows offline than the old watermark loses none of them', async () => {
    const ctx = await hubWithAgent();
    const base = closedMinute(12); // fixed once: a minute boundary may pass during the test
    const m = (k: number) => base + k * 60_000;
    const first = await agentOn(join(dir, 'wipe-a'), ctx, true);
    await feed(first.agent, m(0), 2, ctx.hub);
    await feed(first.agent, m(1), 3, ctx.hub);
    await waitUntil('first life acked', async () => pendingOf(first.agent) === 0, 60_000);
    await first.stop();
    // the card is wiped: a fresh database, offline, numbers its summaries 1, 2, 3 again
    const wiped = join(dir, 'wipe-b');
    const offline = await agentOn(wiped, ctx, false);
    for (const [k, n] of [
      [2, 1],
      [3, 4],
      [4, 2],
    ] as const)
      await feed(offline.agent, m(k), n);
    await offline.stop();
    const back = await agentOn(wiped, ctx, true);
    await waitUntil('second life acked', async () => pendingOf(back.agent) === 0, 60_000);
    expect(await perMinute(ctx.hub)).toEqual({
      [new Date(m(0)).toISOString()]: 2,
      [new Date(m(1)).toISOString()]: 3,
      [new Date(m(2)).toISOString()]: 1,
      [new Date(m(3)).toISOString()]: 4,
      [new Date(m(4)).toISOString()]: 2,
    });
  }, 180_000);

  it('a restored old SD image counts nothing twice and loses nothing it records after the restore', async () => {
    const ctx = await hubWithAgent();
    const base = closedMinute(12); // fixed once: a minute boundary may pass during the test
    const m = (k: number) => base + k * 60_000;
    const card = join(dir, 'card');
    // minute 0 is recorded offline and still pending when the image is taken
    const offline = await agentOn(card, ctx, false);
    await feed(offline.agent, m(0), 2);
    await offline.stop();
    const image = join(dir, 'image');
    cpSync(card, image, { recursive: true });
    // the original lives on: sends minute 0, records minutes 1 and 2, all acked
    const original = await agentOn(card, ctx, true);
    await feed(original.agent, m(1), 3, ctx.hub);
    await feed(original.agent, m(2), 1, ctx.hub);
    await waitUntil('original acked', async () => pendingOf(original.agent) === 0, 60_000);
    await original.stop();
    // the card dies; the old image is restored and records minute 3
    rmSync(card, { recursive: true, force: true });
    cpSync(image, card, { recursive: true });
    const restored = await agentOn(card, ctx, true);
    await feed(restored.agent, m(3), 4, ctx.hub);
    await waitUntil('restored agent acked', async () => pendingOf(restored.agent) === 0, 60_000);
    await ctx.hub.ingest.idle();
    expect(await perMinute(ctx.hub)).toEqual({
      [new Date(m(0)).toISOString()]: 2,
      [new Date(m(1)).toISOString()]: 3,
      [new Date(m(2)).toISOString()]: 1,
      [new Date(m(3)).toISOString()]: 4,
    });
  }, 180_000);
});
