import { validateAgentHealth } from '@cityflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { setAgentHealth } from '../src/store/agents.js';
import { testHub } from './helpers.js';

const alarm = {
  code: 'CF_DISK_FULL',
  since: '2026-03-02T08:00:00Z',
  message: 'disk full in /var/lib/cityflow',
};

describe("agents' alarms: kept from the last health message, listed by GET /api/agents", () => {
  let hub: RunningHub;
  let token: string;
  beforeAll(async () => {
    hub = await testHub();
    await hub.addAgent('A1');
    await hub.addAgent('A2');
    const r = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: 'alarms@city.test', password: 'password123' },
    });
    token = r.json().token;
  });
  afterAll(async () => {
    await hub?.stop();
  });
  const agents = async () =>
    (
      await hub.app.inject({
        method: 'GET',
        url: '/api/agents',
        headers: { authorization: `Bearer ${token}` },
      })
    ).json().data as Array<{ agent_id: string; alarms: unknown[] }>;

  it('an agent with alarms shows them; the next health message replaces them; one without any shows []', async () => {
    await setAgentHealth(hub.db, 'A1', 10, null, '1.0.0', [alarm]);
    let list = await agents();
    expect(list.find((a) => a.agent_id === 'A1')?.alarms).toEqual([alarm]);
    expect(list.find((a) => a.agent_id === 'A2')?.alarms).toEqual([]);
    await setAgentHealth(hub.db, 'A1', 0, null, '1.0.0', []);
    list = await agents();
    expect(list.find((a) => a.agent_id === 'A1')?.alarms).toEqual([]);
  });

  it('the health schema takes alarms as optional and refuses malformed ones (trust boundary)', () => {
    const health = {
      v: 1,
      agent_id: 'A1',
      stream: 'health',
      ts: '2026-03-02T08:00:00Z',
      version: '1',
      uptime_s: 1,
      rss_bytes: 1,
      backlog: 0,
      oldest_unsent_age_s: null,
      readings_total: 0,
      quarantined_total: 0,
      dropped: {},
      clock: { mode: 'wall', synced: true, skew_s: 0 },
    };
    expect(validateAgentHealth(health).ok).toBe(true);
    expect(validateAgentHealth({ ...health, alarms: [alarm] }).ok).toBe(true);
    expect(validateAgentHealth({ ...health, alarms: [{ ...alarm, code: 'rm -rf' }] }).ok).toBe(false);
    expect(validateAgentHealth({ ...health, alarms: [{ ...alarm, message: 'x'.repeat(501) }] }).ok).toBe(
      false,
    );
    expect(validateAgentHealth({ ...health, alarms: Array(21).fill(alarm) }).ok).toBe(false);
  });
});
