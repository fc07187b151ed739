import { describe, expect, it } from 'vitest';
import { validateAck, validateAgentStatus, validateSummaryBatch } from '@cityflow/protocol';

const item = {
  seq: 1,
  sensor_id: 'S1',
  road_id: 'R1',
  minute: '2026-02-09T10:00:00Z',
  count: 12,
  null_speed_count: 2,
  speed_mean: 31.5,
  speed_min: 20,
  speed_max: 44,
  flow_mean: 600,
  occupancy_mean: 0.12,
};
const batch = {
  v: 1,
  agent_id: 'agent-A',
  stream: 'summary',
  sent_at: '2026-02-09T10:01:05Z',
  items: [item],
};

describe('agent <-> hub messages', () => {
  it('accepts a summary batch and skipped ranges', () => {
    expect(validateSummaryBatch(batch).ok).toBe(true);
    expect(validateSummaryBatch({ ...batch, skipped: [[2, 5]] }).ok).toBe(true);
  });

  it('rejects a wrong version, a zero seq and a wrong stream, naming each path', () => {
    const r = validateSummaryBatch({ ...batch, v: 2, stream: 'forecast', items: [{ ...item, seq: 0 }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.split(':')[0]).sort()).toEqual(['items.0.seq', 'stream', 'v']);
  });

  it('validates acks and status', () => {
    expect(
      validateAck({ v: 1, agent_id: 'a', stream: 'summary', watermark: 0, hub_ts: '2026-02-09T10:00:00Z' })
        .ok,
    ).toBe(true);
    expect(
      validateAck({ v: 1, agent_id: 'a', stream: 'live', watermark: 3, hub_ts: '2026-02-09T10:00:00Z' }).ok,
    ).toBe(false);
    expect(
      validateAgentStatus({
        v: 1,
        agent_id: 'a',
        state: 'offline',
        ts: '2026-02-09T10:00:00Z',
        version: '0.1.0',
      }).ok,
    ).toBe(true);
    expect(
      validateAgentStatus({
        v: 1,
        agent_id: 'a',
        state: 'gone',
        ts: '2026-02-09T10:00:00Z',
        version: '0.1.0',
      }).ok,
    ).toBe(false);
  });
});
