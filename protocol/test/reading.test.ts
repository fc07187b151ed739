import { describe, expect, it } from 'vitest';
import { READING_LIMITS, parseReadingMessage, validateReading } from '@cityflow/protocol';

const good = {
  ts: '2026-02-09T10:00:00Z',
  sensor_id: 'S-042',
  road_id: 'RING-NORTH-12',
  speed_kmh: 24.1,
  flow_rate: 78.0,
  occupancy: 0.82,
};
const msg = (v: unknown, topicId = 'S-042') => parseReadingMessage(topicId, JSON.stringify(v));
const errorsOf = (v: unknown) => {
  const r = msg(v);
  return r.ok ? [] : r.errors;
};

describe('sensor reading (seed format)', () => {
  it('accepts the seed example and a null speed', () => {
    expect(msg(good).ok).toBe(true);
    expect(msg({ ...good, speed_kmh: null }).ok).toBe(true);
    expect(msg({ ...good, ts: '2026-02-09T10:00:00.123+01:00' }).ok).toBe(true);
  });

  it('ignores extra members (newer sensors may add fields)', () => {
    expect(msg({ ...good, firmware: '1.2' }).ok).toBe(true);
  });

  it.each([
    ['ts', 'not a time'],
    ['ts', '2026-02-09 10:00:00'],
    ['ts', '2026-02-09T10:00:00'], // no zone
    ['ts', 1_700_000_000],
    ['sensor_id', ''],
    ['sensor_id', 'a/b'],
    ['sensor_id', 42],
    ['road_id', 'x+y'],
    ['road_id', null],
    ['speed_kmh', -1],
    ['speed_kmh', READING_LIMITS.maxSpeedKmh + 1],
    ['speed_kmh', 'NaN'],
    ['speed_kmh', '24.1'],
    ['flow_rate', -0.1],
    ['flow_rate', null],
    ['flow_rate', READING_LIMITS.maxFlowVph + 1],
    ['occupancy', 1.01],
    ['occupancy', -0.01],
    ['occupancy', true],
  ])('rejects %s = %j with a path-prefixed message', (field, value) => {
    const errors = errorsOf({ ...good, [field]: value });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => e.startsWith(`${field}: `))).toBe(true);
  });

  it.each(['ts', 'sensor_id', 'road_id', 'speed_kmh', 'flow_rate', 'occupancy'])(
    'rejects a missing %s',
    (field) => {
      const { [field as keyof typeof good]: _omit, ...rest } = good;
      const r = msg(rest);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe('CF_INVALID_READING');
    },
  );

  it('reports every problem at once', () => {
    const errors = errorsOf({ ...good, speed_kmh: -5, occupancy: 3, road_id: 7 });
    expect(errors.map((e) => e.split(':')[0]).sort()).toEqual(['occupancy', 'road_id', 'speed_kmh']);
  });

  it('rejects an impossible calendar date that matches the pattern', () => {
    const r = validateReading({ ...good, ts: '2026-02-31T99:00:00Z' });
    expect(r.ok).toBe(false);
  });

  it('rejects NaN and Infinity given programmatically', () => {
    expect(validateReading({ ...good, speed_kmh: Number.NaN }).ok).toBe(false);
    expect(validateReading({ ...good, flow_rate: Number.POSITIVE_INFINITY }).ok).toBe(false);
  });

  it('rejects non-JSON, arrays and oversize payloads with distinct codes', () => {
    const bad = parseReadingMessage('S-042', '{"ts":');
    expect(bad.ok ? '' : bad.code).toBe('CF_INVALID_JSON');
    const arr = parseReadingMessage('S-042', '[1,2]');
    expect(arr.ok ? '' : arr.code).toBe('CF_INVALID_READING');
    const big = parseReadingMessage('S-042', JSON.stringify({ ...good, pad: 'x'.repeat(2000) }));
    expect(big.ok ? '' : big.code).toBe('CF_OVERSIZE');
  });

  it('rejects a payload whose sensor_id differs from the topic', () => {
    const r = msg(good, 'S-043');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('CF_TOPIC_MISMATCH');
      expect(r.errors[0]).toMatch(/^sensor_id: /);
    }
  });

  it('parses Buffer payloads and returns the timestamp in ms', () => {
    const r = parseReadingMessage('S-042', Buffer.from(JSON.stringify(good)));
    expect(r.ok && r.tsMs).toBe(Date.parse(good.ts));
  });
});
