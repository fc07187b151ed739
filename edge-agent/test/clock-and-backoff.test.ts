import { describe, expect, it } from 'vitest';
import { AgentClock } from '../src/clock.js';
import { startAgent } from '../src/index.js';
import { checkReading } from '../src/ingest/reading-checks.js';
import { openDb } from '../src/storage/sqlite.js';
import { fullJitterDelay } from '../src/uplink/backoff.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

const noSlice = { sensors: () => null };
const limits = { maxFutureS: 300, maxPastH: 24 };

describe('clock rules', () => {
  it('wall clock: rejects readings too far ahead or behind, and measures skew against the hub', () => {
    let wall = Date.UTC(2026, 1, 9, 12, 0, 0);
    const clock = new AgentClock('wall', () => wall);
    const at = (ms: number) => checkReading('S-1', reading('S-1', 'R-1', ms), noSlice, clock, limits);
    expect(at(wall + 60_000).ok).toBe(true);
    expect(at(wall + 3_600_000)).toMatchObject({ ok: false, code: 'CF_TS_FUTURE' });
    expect(at(wall - 25 * 3_600_000)).toMatchObject({ ok: false, code: 'CF_TS_PAST' });
    expect(clock.state()).toEqual({ mode: 'wall', synced: false, skew_s: null });
    // The agent's clock runs 1 h fast; once the hub's time is heard, rules use the corrected clock.
    wall += 3_600_000;
    clock.observeHubTime(wall - 3_600_000);
    expect(clock.state()).toMatchObject({ synced: true, skew_s: 3600 });
    expect(at(wall - 3_600_000).ok).toBe(true);
  });

  it('a Pi booting at 1970 without a hub reference does not reject good readings from sensors with a real clock', () => {
    const clock = new AgentClock('wall', () => 86_400_000);
    expect(clock.untrusted()).toBe(true);
    // nor stamps a 1970 close time on its summaries (they leave `closed_at` out)
    expect(clock.trustedWall()).toBeNull();
    expect(checkReading('S-1', reading('S-1', 'R-1', Date.UTC(2026, 1, 9)), noSlice, clock, limits).ok).toBe(
      true,
    );
    clock.observeHubTime(Date.UTC(2026, 1, 9));
    expect(clock.untrusted()).toBe(false);
    expect(Math.abs((clock.trustedWall() ?? 0) - Date.UTC(2026, 1, 9))).toBeLessThan(1000);
    expect(Math.abs(clock.now() - Date.UTC(2026, 1, 9))).toBeLessThan(1000);
  });

  it('data clock follows reading timestamps and never goes back; once set, a sensor running ahead is rejected', () => {
    const clock = new AgentClock('data', () => 0);
    expect(clock.now()).toBe(0);
    const t = Date.UTC(2020, 0, 1);
    // before the first reading there is no data clock, so no future rule
    expect(checkReading('S-1', reading('S-1', 'R-1', t), noSlice, clock, limits).ok).toBe(true);
    clock.observeData(t);
    clock.observeData(t - 1000);
    expect(clock.now()).toBe(t);
    // one sensor 1 h ahead must not drive the data clock: rejected, not accepted
    expect(checkReading('S-1', reading('S-1', 'R-1', t + 3_600_000), noSlice, clock, limits)).toMatchObject({
      ok: false,
      code: 'CF_TS_FUTURE',
    });
    expect(checkReading('S-1', reading('S-1', 'R-1', t + 290_000), noSlice, clock, limits).ok).toBe(true);
    // a fast replay judges each reading against the accepted ones just before it (not yet committed)
    clock.noteAccepted(t + 290_000);
    expect(checkReading('S-1', reading('S-1', 'R-1', t + 580_000), noSlice, clock, limits).ok).toBe(true);
    expect(clock.now()).toBe(t);
    expect(
      checkReading('S-1', reading('S-1', 'R-1', t - 48 * 3_600_000), noSlice, clock, limits),
    ).toMatchObject({ code: 'CF_TS_PAST' });
  });

  it('data clock: a gap in the data itself (two sensors ahead, nothing accepted between) is followed', () => {
    const clock = new AgentClock('data', () => 0);
    const t = Date.UTC(2020, 0, 1);
    const check = (s: string, ms: number) => checkReading(s, reading(s, 'R-1', ms), noSlice, clock, limits);
    clock.observeData(t);
    // S-9 alone running ahead, with S-1 on time between its readings: always rejected
    for (let i = 0; i < 3; i++) {
      expect(check('S-9', t + 3_600_000)).toMatchObject({ code: 'CF_TS_FUTURE' });
      const ok = check('S-1', t + i * 1000);
      expect(ok.ok).toBe(true);
      if (ok.ok) clock.noteAccepted(ok.reading.tsMs);
    }
    // the replay jumps 2 h: S-1 ahead is rejected, S-2 ahead too right after means the data jumped
    expect(check('S-1', t + 7_200_000)).toMatchObject({ code: 'CF_TS_FUTURE' });
    expect(check('S-2', t + 7_200_000).ok).toBe(true);
    // with a one-sensor slice, that sensor alone is the data
    const one = new AgentClock('data', () => 0);
    one.observeData(t);
    const slice = { sensors: () => new Map([['S-1', 'R-1']]) };
    expect(checkReading('S-1', reading('S-1', 'R-1', t + 7_200_000), slice, one, limits).ok).toBe(true);
  });
});

describe('reconnect backoff', () => {
  it('is exponential with full jitter, capped', () => {
    expect(fullJitterDelay(0, 1000, 60_000, () => 0.999)).toBe(999);
    expect(fullJitterDelay(3, 1000, 60_000, () => 0.5)).toBe(4000);
    expect(fullJitterDelay(20, 1000, 60_000, () => 0.999)).toBe(59_940);
    expect(fullJitterDelay(5, 1000, 60_000, () => 0)).toBe(0);
    // full jitter spreads agents: 1000 draws at attempt 6 cover the whole [0, 64 s) range
    const draws = Array.from({ length: 1000 }, () => fullJitterDelay(6, 1000, 120_000));
    expect(Math.min(...draws)).toBeLessThan(5000);
    expect(Math.max(...draws)).toBeGreaterThan(59_000);
  });
});

describe('minute summaries are exactly-once across restarts and late readings', () => {
  const cleanups = useCleanups();

  it('a late reading becomes a late summary for its minute; a restart neither re-summarises nor loses', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const started = Date.now();
    const T0 = Date.UTC(2026, 1, 9, 8, 0, 0);
    let agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      clock: 'data',
      forecastIntervalS: 3600,
    });
    let c = await connect(agent.mqttUrl);
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 1000));
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 2000));
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 70_000)); // closes minute 0
    await waitFor(
      () => (agent.status().streams as { summary: { highest_seq: number } }).summary.highest_seq === 1,
      'first summary',
    );
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 3000)); // late for minute 0
    await c.endAsync();
    expect(agent.status().readings_late_total).toBe(1);
    await agent.stop();
    agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir, clock: 'data', forecastIntervalS: 3600 });
    cleanups.push(() => agent.stop());
    c = await connect(agent.mqttUrl);
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 130_000)); // closes minute 1 (and the late one)
    await c.endAsync();
    await waitFor(
      () => (agent.status().streams as { summary: { highest_seq: number } }).summary.highest_seq === 3,
      'late + minute 1',
    );
    await agent.stop();
    const db = openDb(tmp.dir);
    const bodies = (
      db.prepare("SELECT seq, body FROM outbox WHERE stream = 'summary' ORDER BY seq").all() as Array<{
        body: string;
      }>
    ).map((r) => JSON.parse(r.body));
    db.close();
    expect(bodies.map((b) => [b.minute.slice(11, 16), b.count])).toEqual([
      ['08:00', 2],
      ['08:00', 1],
      ['08:01', 1],
    ]);
    // closed_at is the wall time of each close (for the hub's ingest latency), not the data time
    for (const b of bodies) {
      expect(Date.parse(b.closed_at)).toBeGreaterThanOrEqual(started);
      expect(Date.parse(b.closed_at)).toBeLessThanOrEqual(Date.now());
    }
  });
});
