import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutboxStore } from '../src/storage/outbox-store.js';
import { openDb } from '../src/storage/sqlite.js';
import { Drainer } from '../src/uplink/drainer.js';
import { tempDir } from './helpers/util.js';

const noEvents = { sent() {}, acked() {}, rejected() {}, parked() {}, resend() {} };

describe('drainer order (deterministic: fake timers, no hub)', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const c of cleanups.reverse()) c();
    cleanups.length = 0;
  });

  it('a row created after the link came up is sent before the rest of a rate-limited backlog', () => {
    vi.useFakeTimers();
    const tmp = tempDir();
    const db = openDb(tmp.dir, { sync: 'normal' });
    cleanups.push(tmp.cleanup, () => db.close());
    const outbox = new OutboxStore(db);
    const append = (n: number) =>
      db.transaction(() => {
        for (let i = 0; i < n; i++) outbox.append('summary', { i }, Date.now());
      })();
    append(120); // backlog: 3 s at 40 items/s
    const sent: number[][] = [];
    const drainer = new Drainer(
      outbox,
      {
        agentId: 'A-1',
        ratePerS: 40,
        batchMaxItems: 10,
        ackTimeoutMs: 3_600_000,
        maxTries: 10,
        ackWaitMs: 0,
        tickMs: 100,
      },
      noEvents,
      pino({ level: 'silent' }),
    );
    cleanups.push(() => drainer.disconnected());
    drainer.connected((_topic, payload) => {
      sent.push((JSON.parse(payload) as { items: Array<{ seq: number }> }).items.map((i) => i.seq));
      return Promise.resolve();
    });
    vi.advanceTimersByTime(500);
    const backlogSoFar = sent.flat();
    expect(backlogSoFar.length).toBeGreaterThan(0);
    expect(backlogSoFar.length).toBeLessThan(120);
    append(1); // seq 121: a minute closed while connected
    drainer.kick();
    vi.advanceTimersByTime(500);
    const order = sent.flat();
    expect(order.indexOf(121)).toBe(backlogSoFar.length); // next item out, ahead of the backlog
    vi.advanceTimersByTime(5_000);
    expect(
      sent
        .flat()
        .slice()
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 121 }, (_, i) => i + 1));
  });
});
