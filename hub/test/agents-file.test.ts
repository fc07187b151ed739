import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { agentClient, testHub } from './helpers.js';

describe('CITYFLOW_AGENTS_FILE', () => {
  it('a hub started with the file accepts MQTT connections with those credentials', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cityflow-agents-')), 'agents.json');
    const agents = [
      { agent_id: 'A1', password: 'pre-generated-secret-a1-0123456789' },
      { agent_id: 'A2', password: 'pre-generated-secret-a2-0123456789' },
    ];
    writeFileSync(file, JSON.stringify(agents));
    chmodSync(file, 0o600);
    const hub = await testHub({ agentsFile: file });
    try {
      for (const a of agents) {
        const c = await agentClient(hub, { ...a, username: a.agent_id });
        expect(c.client.connected).toBe(true);
        await c.client.endAsync();
      }
      // a wrong secret is refused
      await expect(
        mqtt.connectAsync(hub.mqttUrl, {
          clientId: 'agent:A1',
          username: 'A1',
          password: 'not-the-secret-0123456789',
          reconnectPeriod: 0,
        }),
      ).rejects.toThrow();
      // ensuring again (a restart) keeps the same secret working and rotates nothing else
      const { ensureAgent } = await import('../src/store/agents.js');
      await ensureAgent(hub.db, 'A1', agents[0].password);
      const again = await agentClient(hub, { ...agents[0], username: 'A1' });
      await again.client.endAsync();
      const listed = await hub.db.query<{ agent_id: string }>('SELECT agent_id FROM agents ORDER BY 1');
      expect(listed.rows.map((r) => r.agent_id)).toEqual(['A1', 'A2']);
    } finally {
      await hub.stop();
    }
  });
});
