import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { topics } from '@cityflow/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithService } from '../../test-support/services.js';
import type { RunningHub } from '../src/hub.js';
import { agentClient, gridNetwork, summary, summaryBatch, testHub, until, writeNetwork } from './helpers.js';
import { freshSchemaUrl } from './pg-schema.js';

const BIN = fileURLToPath(new URL('../bin/cityflow-hub.js', import.meta.url));

/**
 * Issue 10, fault 4: readings the hub rejects for good are acked (the agent deletes them), kept in a
 * byte-bounded quarantine whatever their size or content, and can be listed, exported and replayed
 * once the cause is fixed — against a real hub (embedded broker, real mqtt.js agent) on PostgreSQL and
 * the real `cityflow-hub` binary.
 */
describeWithService('PG', 'quarantine: kept safely, bounded in bytes, replayable', (pgUrl) => {
  let schema: Awaited<ReturnType<typeof freshSchemaUrl>>;
  let hub: RunningHub;
  let agent: Awaited<ReturnType<typeof agentClient>>;
  const MAX = 600 << 10;

  beforeAll(async () => {
    schema = await freshSchemaUrl(pgUrl);
    hub = await testHub({ databaseUrl: schema.url, quarantineMaxBytes: MAX });
    agent = await agentClient(hub, await hub.addAgent('A1'));
  });
  afterAll(async () => {
    await agent?.client.endAsync();
    await hub?.stop();
    await schema?.drop();
  });

  const cli = (args: string[], network = writeNetwork()) => {
    const r = spawnSync(process.execPath, [BIN, 'quarantine', ...args], {
      env: { ...process.env, DATABASE_URL: schema.url, NETWORK_FILE: network, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`cityflow-hub quarantine ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const metric = async (re: RegExp) =>
    Number(re.exec((await hub.app.inject({ url: '/metrics' })).body)?.[1] ?? 0);

  it('a 200 KiB refused message with a NUL character is kept whole, as bytes, and counted', async () => {
    const filler = `${'x'.repeat(200 << 10)}\\u0000`;
    const payload = `{"v":1,"agent_id":"A1","stream":"summary","items":[],"junk":"${filler}"}`;
    await agent.client.publishAsync(topics.uplink('A1', 'summary'), payload, { qos: 1 });
    const row = await until(async () => {
      const r = await hub.db.query<{ bytes: number; body: Buffer; payload: unknown }>(
        "SELECT bytes, body, payload FROM quarantine WHERE code = 'CF_INVALID_MESSAGE' AND bytes > 100000",
      );
      return r.rows[0];
    }, 10_000);
    const kept = JSON.parse(Buffer.from(row.body).toString('utf8'));
    expect(kept.junk).toBe(JSON.parse(payload).junk); // nothing cut, the NUL included
    expect(row.payload).toBeNull(); // too big (and unrepresentable) for the jsonb column: bytes only
    expect(
      await metric(/cityflow_hub_quarantine_items_total\{code="CF_INVALID_MESSAGE"\} (\d+)/),
    ).toBeGreaterThan(0);
  });

  it('the quarantine stays under its byte bound: the oldest rows go first, counted', async () => {
    for (let i = 0; i < 6; i++)
      await agent.client.publishAsync(
        topics.uplink('A1', 'summary'),
        `{"v":1,"agent_id":"A1","stream":"summary","items":[],"n":${i},"junk":"${'y'.repeat(150 << 10)}"}`,
        { qos: 1 },
      );
    await hub.ingest.idle();
    await until(async () => (await metric(/cityflow_hub_quarantine_evicted_total (\d+)/)) > 0, 10_000);
    await hub.ingest.enforceQuarantine();
    const r = await hub.db.query<{ total: number; newest: string }>(
      "SELECT sum(bytes)::int AS total, max(convert_from(body, 'UTF8')::jsonb->>'n') AS newest FROM quarantine",
    );
    expect(r.rows[0]!.total).toBeLessThanOrEqual(MAX);
    expect(r.rows[0]!.newest).toBe('5'); // the newest dead letter is kept
  });

  it('rejected-for-good items are acked, listed, exported, and replayed once after the network is fixed', async () => {
    // S-NEW is not in the network yet: refused for good, acked, quarantined
    const items = [
      summary(1, 'R00-10', '2026-03-02T08:00:00Z', {
        sensor_id: 'S-NEW',
        count: 7,
        closed_at: new Date().toISOString(),
      }),
      summary(2, 'R00-10', '2026-03-02T08:01:00Z'),
    ];
    await agent.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(summaryBatch('A1', items)),
      {
        qos: 1,
      },
    );
    const ack = await until(() => agent.acks.find((a) => a.watermark === 2));
    expect(ack.rejected).toEqual([expect.objectContaining({ seq: 1, code: 'CF_UNKNOWN_SENSOR' })]);

    const listed = JSON.parse(cli(['list', '--code', 'CF_UNKNOWN_SENSOR', '--json']));
    expect(listed).toEqual([expect.objectContaining({ agent_id: 'A1', seq: 1, code: 'CF_UNKNOWN_SENSOR' })]);
    const exported = cli(['export', '--code', 'CF_UNKNOWN_SENSOR'])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(exported[0].payload).toMatchObject({ seq: 1, sensor_id: 'S-NEW', count: 7 });

    // replay before the fix: still refused, nothing stored
    expect(JSON.parse(cli(['replay', '--code', 'CF_UNKNOWN_SENSOR', '--json']))).toEqual([
      expect.objectContaining({ outcome: 'still-refused' }),
    ]);
    const fixed = gridNetwork();
    fixed.features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [2.35, 48.85] },
      properties: { kind: 'sensor', sensor_id: 'S-NEW', road_id: 'R00-10', agent_id: 'A1' },
    });
    const net = writeNetwork(fixed);
    expect(JSON.parse(cli(['replay', '--code', 'CF_UNKNOWN_SENSOR', '--json'], net))).toEqual([
      expect.objectContaining({ outcome: 'stored', stored: 1 }),
    ]);
    expect(JSON.parse(cli(['replay', '--code', 'CF_UNKNOWN_SENSOR', '--json'], net))).toEqual([]); // once only
    // stored without its close time: the wait in quarantine is not ingest latency
    const stored = await hub.db.query<{ count: number; closed_at: Date | null }>(
      "SELECT count, closed_at FROM traffic_minute WHERE sensor_id = 'S-NEW'",
    );
    expect(stored.rows).toEqual([{ count: 7, closed_at: null }]);
  }, 120_000);
});
