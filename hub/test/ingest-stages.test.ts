import { loadNetwork, topics } from '@cityflow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { HubClock } from '../src/clock.js';
import { type Db, openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import { Authorizer } from '../src/ingest/authorize.js';
import { decode } from '../src/ingest/decode.js';
import { envelopeValidators } from '../src/ingest/envelope.js';
import { BoundedQueues } from '../src/ingest/queue.js';
import { route } from '../src/ingest/route.js';
import { isDataError, storeBatch } from '../src/ingest/store.js';
import { DataClockFeed, checkTime } from '../src/ingest/time-bounds.js';
import { checkItems } from '../src/ingest/validate.js';
import { QUARANTINE_LIMITS, encodePayload } from '../src/store/quarantine-store.js';
import { gridNetwork, summary } from './helpers.js';

/** Each ingest stage on its own (the pipeline is tested end to end in ingest*.test.ts). */
const net = (() => {
  const r = loadNetwork(gridNetwork());
  if (!r.ok) throw new Error(r.errors.join());
  return r.value;
})();

describe('ingest stages', () => {
  it('route: uplink and status topics of an agent; anything else is not for the ingest', () => {
    expect(route(topics.uplink('A1', 'summary'))).toEqual({ agentId: 'A1', stream: 'summary' });
    expect(route(topics.status('A1'))).toEqual({ agentId: 'A1', stream: 'status' });
    expect(route(topics.ack('A1', 'summary'))).toBeNull();
    expect(route('cityflow/v1/agents/A1/up/nope')).toBeNull();
  });

  it('decode: JSON, or a refusal that keeps the raw bytes', () => {
    expect(decode(Buffer.from('{"a":1}'))).toEqual({ ok: true, value: { a: 1 } });
    const bad = decode(Buffer.from('{nope'));
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.refusal.code).toBe('CF_INVALID_JSON');
      expect(Buffer.isBuffer(bad.refusal.payload)).toBe(true);
    }
  });

  it('envelope: the batch schema with its items left for the item check', () => {
    const env = {
      v: 1,
      agent_id: 'A1',
      stream: 'summary',
      sent_at: '2026-03-02T08:00:00Z',
      items: [{ junk: 1 }],
    };
    expect(envelopeValidators.summary(env).ok).toBe(true);
    expect(envelopeValidators.summary({ ...env, incarnation: 'has space' }).ok).toBe(false);
  });

  it("authorize: the payload's agent is the topic's; roads and sensors of the agent's slice only", () => {
    const a = new Authorizer(net);
    expect(a.envelope('A1', { agent_id: 'A2' })).toEqual([expect.stringMatching(/differs from topic/)]);
    expect(a.item('A1', 1, { road_id: 'R00-10', sensor_id: 'S-R00-10' })).toBeNull();
    expect(a.item('A1', 1, { road_id: 'R20-10', sensor_id: 'S-R20-10' })?.code).toBe('CF_NOT_AUTHORIZED');
    expect(a.item('A1', 1, { road_id: 'R20-10' })?.code).toBe('CF_NOT_AUTHORIZED'); // a forecast of A2's road
    expect(a.item('A1', 1, { road_id: 'NOPE' })?.code).toBe('CF_REJECTED_BY_HUB');
    expect(a.item('A1', 1, { road_id: 'R00-10', sensor_id: 'S-X' })?.code).toBe('CF_UNKNOWN_SENSOR');
  });

  it('validate: each item checked once into a value or a rejection by seq; no seq means unackable', () => {
    const deps = { clock: new HubClock('wall'), authorizer: new Authorizer(net) };
    const { checked, unackable } = checkItems(
      'summary',
      'A1',
      [
        summary(1, 'R00-10', '2026-03-02T08:00:00Z'),
        summary(2, 'R00-10', '2026-03-02T08:00:00Z', { speed_mean: 1.7e308 }),
        summary(3, 'R00-10', '2026-03-02T08:00:10Z'),
        { seq: 'x' },
        summary(1, 'R00-10', '2026-03-02T08:02:00Z'), // a repeated seq
      ],
      deps,
    );
    expect(checked.map((c) => [c.seq, c.rejection?.code ?? 'ok'])).toEqual([
      [1, 'ok'],
      [2, 'CF_INVALID_MESSAGE'],
      [3, 'CF_INVALID_MESSAGE'],
    ]);
    expect(unackable.map((u) => u.index)).toEqual([3, 4]);
  });

  it('time bounds: wall clock + 300 s; data clock + 6 h; the data clock follows the second-newest time', () => {
    const wall = new HubClock('wall');
    expect(checkTime(wall, 'ts', new Date(Date.now() + 200_000).toISOString())).toBeNull();
    expect(checkTime(wall, 'ts', new Date(Date.now() + 400_000).toISOString())).toMatch(/ahead/);
    expect(checkTime(wall, 'ts', '2026-13-01T00:00:00Z')).toMatch(/not a real time/);
    const data = new HubClock('data');
    const feed = new DataClockFeed(data);
    const T = Date.UTC(2026, 2, 2, 8);
    feed.observe(T);
    feed.observe(T + 60_000);
    expect(data.now()).toBe(T);
    feed.observe(T + 5 * 3600_000); // one forged item
    expect(data.now()).toBe(T + 60_000);
    expect(checkTime(data, 'ts', new Date(T + 7 * 3600_000).toISOString())).toMatch(/ahead/);
  });

  it('queue: bounded per agent and in total; an idle agent always gets one message in', async () => {
    const q = new BoundedQueues({ perAgentBytes: 100, totalBytes: 150 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    expect(q.push('A1/summary', 'A1', 500, () => gate)).toBeNull(); // larger than the bound, but A1 was idle
    expect(q.push('A1/summary', 'A1', 10, async () => undefined)).toBe('agent');
    expect(q.push('A1/status', 'A1', 10, async () => undefined, true)).toBeNull(); // forced
    expect(q.push('A2/summary', 'A2', 50, async () => undefined)).toBeNull();
    expect(q.push('A2/summary', 'A2', 20, async () => undefined)).toBe('total');
    release();
    await q.idle();
    expect(q.queuedBytes).toBe(0);
  });

  it('quarantine encoding: bytes always; jsonb only for JSON that fits and holds no NUL; cut past the row cap', () => {
    expect(encodePayload({ a: 1 })).toMatchObject({ json: '{"a":1}', truncated: false });
    expect(encodePayload({ a: '\u0000' }).json).toBeNull();
    expect(encodePayload(Buffer.from('{nope')).json).toBeNull();
    const big = encodePayload('x'.repeat(QUARANTINE_LIMITS.maxRowBytes + 10));
    expect(big.truncated).toBe(true);
    expect(big.body.length).toBe(QUARANTINE_LIMITS.maxRowBytes);
    expect(big.json).toBeNull();
  });
});

describe('store stage', () => {
  let db: Db;
  afterEach(async () => db?.close());

  it('an item the database refuses (past the schema) is rejected on its own; the stream moves on', async () => {
    db = await openDb('pglite://memory');
    await migrate(db);
    const item = (seq: number, count: number) => {
      const value = { ...summary(seq, 'R00-10', `2026-03-02T08:0${seq}:00Z`), count };
      return { seq, raw: value, value, rejection: null };
    };
    // count 2^40 overflows int4: as if a schema had let it through
    const out = await storeBatch(db, {
      agentId: 'A1',
      incarnation: 'i1',
      stream: 'summary',
      checked: [item(1, 10), item(2, 2 ** 40), item(3, 10)],
      skipped: [],
    });
    expect(out.watermark).toBe(3);
    expect(out.stored).toBe(2);
    expect(out.rejected).toEqual([expect.objectContaining({ seq: 2, code: 'CF_DB_ERROR' })]);
    const q = await db.query<{ seq: string; incarnation: string }>(
      'SELECT seq::text, incarnation FROM quarantine',
    );
    expect(q.rows).toEqual([{ seq: '2', incarnation: 'i1' }]);
    expect(isDataError({ code: '22003' })).toBe(true);
    expect(isDataError({ code: '08006' })).toBe(false);
  });

  it('watermarks are kept per incarnation: a new incarnation starts at 0', async () => {
    db = await openDb('pglite://memory');
    await migrate(db);
    const item = (seq: number) => {
      const value = summary(seq, 'R00-10', `2026-03-02T09:0${seq}:00Z`);
      return { seq, raw: value, value, rejection: null };
    };
    const a = await storeBatch(db, {
      agentId: 'A1',
      incarnation: 'old',
      stream: 'summary',
      checked: [1, 2, 3].map(item),
      skipped: [],
    });
    expect(a.watermark).toBe(3);
    const b = await storeBatch(db, {
      agentId: 'A1',
      incarnation: 'new',
      stream: 'summary',
      checked: [item(1)],
      skipped: [],
    });
    expect(b).toMatchObject({ watermark: 1, stored: 1, duplicates: 0 });
  });
});
