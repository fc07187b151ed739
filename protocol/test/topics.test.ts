import { describe, expect, it } from 'vitest';
import { SEQUENCED_STREAMS, UPLINK_STREAMS, parseTopic, topics } from '@cityflow/protocol';

describe('topics', () => {
  it('round-trips every topic through parseTopic', () => {
    expect(parseTopic(topics.sensor('S-1'))).toEqual({ kind: 'sensor', sensorId: 'S-1' });
    for (const s of UPLINK_STREAMS)
      expect(parseTopic(topics.uplink('agent-A1', s))).toEqual({
        kind: 'uplink',
        agentId: 'agent-A1',
        stream: s,
      });
    for (const s of SEQUENCED_STREAMS)
      expect(parseTopic(topics.ack('agent-A1', s))).toEqual({ kind: 'ack', agentId: 'agent-A1', stream: s });
    expect(parseTopic(topics.status('a'))).toEqual({ kind: 'status', agentId: 'a' });
    expect(parseTopic(topics.config('a'))).toEqual({ kind: 'config', agentId: 'a' });
    expect(parseTopic(topics.advice('a'))).toEqual({ kind: 'advice', agentId: 'a' });
    expect(parseTopic(topics.diagRequest('a'))).toEqual({ kind: 'diag-request', agentId: 'a' });
    expect(parseTopic(topics.localAdvice())).toEqual({ kind: 'local-advice' });
  });

  it('keeps the seed sensor topic and versions the agent topics', () => {
    expect(topics.sensor('S-042')).toBe('cityflow/traffic/S-042');
    expect(topics.uplink('a1', 'summary')).toBe('cityflow/v1/agents/a1/up/summary');
    expect(topics.shared('hub', topics.hubUplinkFilter())).toBe('$share/hub/cityflow/v1/agents/+/up/+');
  });

  it('refuses ids that would break topic levels (wildcards, separators, empty)', () => {
    for (const bad of ['', 'a/b', '+', '#', 'a+b', ' x', 'x'.repeat(65)]) {
      expect(() => topics.sensor(bad)).toThrow();
      expect(() => topics.uplink(bad, 'summary')).toThrow();
    }
  });

  it('returns null for foreign or malformed topics', () => {
    for (const t of [
      'other/traffic/S-1',
      'cityflow/traffic',
      'cityflow/traffic/S-1/extra',
      'cityflow/v2/agents/a/status',
      'cityflow/v1/agents/a/up/unknown',
      'cityflow/v1/agents/a/ack/live',
      'cityflow/v1/agents/+/status',
      'cityflow/v1/agents/a/status/x',
    ])
      expect(parseTopic(t)).toBeNull();
  });
});
