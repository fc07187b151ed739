import { AgentAlarmsSchema, validateAgentHealth } from '@cityflow/protocol';
import { Value } from '@sinclair/typebox/value';
import { Alarms } from '../src/health/alarms.js';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { tempDir, useCleanups } from './helpers/util.js';

describe('alarms [{code, since, message}] in status, /status, /health and the health uplink', () => {
  const cleanups = useCleanups();

  it('a wall-clock agent that never heard the hub raises CF_CLOCK_UNSYNCED everywhere; data mode does not', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const before = Date.now();
    const running = await startAgent({ agentId: 'A-1', dataDir: tmp.dir, clock: 'wall' });
    cleanups.push(() => running.stop());
    const alarms = running.status().alarms as Array<{ code: string; since: string; message: string }>;
    expect(alarms.map((a) => a.code)).toEqual(['CF_CLOCK_UNSYNCED']);
    expect(Date.parse(alarms[0]!.since)).toBeGreaterThanOrEqual(before - 1000);
    const health = running.agent.health();
    expect(health.alarms).toEqual(alarms);
    expect(validateAgentHealth(health).ok).toBe(true);
    const viaHttp = await (await fetch(`${running.httpUrl}/status`)).json();
    expect(viaHttp.alarms).toEqual(alarms);
    expect((await (await fetch(`${running.httpUrl}/health`)).json()).alarms).toEqual(['CF_CLOCK_UNSYNCED']);
    // `since` keeps the first onset while the condition lasts
    expect((running.status().alarms as typeof alarms)[0]!.since).toBe(alarms[0]!.since);
    await running.stop();

    const tmp2 = tempDir();
    cleanups.push(tmp2.cleanup);
    const data = await startAgent({ agentId: 'A-2', dataDir: tmp2.dir, clock: 'data' });
    cleanups.push(() => data.stop());
    expect(data.status().alarms).toEqual([]);
  });

  it('a long message (a moved-aside path, a salvage report) is cut to the schema bound, so the hub takes the health message', () => {
    const a = new Alarms();
    a.set('CF_DB_CORRUPT', true, `corrupt database moved to /var/lib/${'x'.repeat(600)}`);
    const list = a.list();
    expect(list[0]!.message.length).toBeLessThanOrEqual(200);
    expect(Value.Check(AgentAlarmsSchema, list)).toBe(true);
    a.set('CF_DB_CORRUPT', false);
    expect(a.list()).toEqual([]);
  });
});
