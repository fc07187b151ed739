import { describe, expect, it } from 'vitest';
import { parseAdjacencyCsv, parseSeriesCsv, parseTs } from '../src/eval/csv.js';

describe('parseSeriesCsv', () => {
  it('reads the wide layout (zoneless ts kept as wall clock), step from ts, missing steps as NaN', () => {
    const csv = [
      'ts,s1,s2',
      '2012-03-01T00:00:00,60,55.5',
      '2012-03-01T00:05:00,61,',
      // 00:10 is missing
      '2012-03-01T00:15:00,62,57',
    ].join('\n');
    const ds = parseSeriesCsv(csv);
    expect(ds.layout).toBe('wide');
    expect(ds.ids).toEqual(['s1', 's2']);
    expect(ds.stepMs).toBe(5 * 60_000);
    expect([...ds.tsMs]).toEqual([0, 5, 10, 15].map((m) => Date.UTC(2012, 2, 1, 0, m)));
    expect([...ds.values[0]!]).toEqual([60, 61, Number.NaN, 62]);
    expect([...ds.values[1]!]).toEqual([55.5, Number.NaN, Number.NaN, 57]);
  });

  it('reads the long layout: one row per sensor and minute, empty speed = missing, duplicates averaged', () => {
    const csv = [
      'ts,sensor_id,road_id,speed_kmh,flow_rate,occupancy',
      '2026-03-02T06:00:00Z,e1_A_0,A,,0.0,0.000',
      '2026-03-02T06:00:00Z,e1_A_1,A,30.0,60,0.1',
      '2026-03-02T06:01:00Z,e1_A_0,A,40.0,60,0.1',
      '2026-03-02T06:01:00Z,e1_A_1,A,20.0,60,0.1',
      '2026-03-02T06:01:30Z,e1_A_1,A,30.0,60,0.1',
    ].join('\n');
    const ds = parseSeriesCsv(csv);
    expect(ds.layout).toBe('long');
    expect(ds.ids).toEqual(['e1_A_0', 'e1_A_1']);
    // the smallest gap between distinct ts is 30 s here
    expect(ds.stepMs).toBe(30_000);
    expect(ds.values[0]![0]).toBeNaN();
    expect(ds.values[0]![2]).toBe(40);
    expect(ds.values[1]![2]).toBe(20);
    expect(ds.values[1]![3]).toBe(30);
  });

  it('reads a zero speed as missing in the wide layout (METR convention), as a standstill in the long one', () => {
    const wide = 'ts,s1\n2012-03-01T00:00:00,0\n2012-03-01T00:05:00,50\n';
    expect(parseSeriesCsv(wide).values[0]![0]).toBeNaN();
    expect(parseSeriesCsv(wide, { zeroIsMissing: false }).values[0]![0]).toBe(0);
    const long = 'ts,sensor_id,speed_kmh\n2026-03-02T06:00:00Z,a,0\n2026-03-02T06:01:00Z,a,5\n';
    expect(parseSeriesCsv(long).values[0]![0]).toBe(0);
    expect(parseSeriesCsv(long, { zeroIsMissing: true }).values[0]![0]).toBeNaN();
  });

  it('rejects a file without ts, with bad timestamps, or with one time only', () => {
    expect(() => parseSeriesCsv('a,b\n1,2\n')).toThrow(/no `ts` column/);
    expect(() => parseSeriesCsv('ts,s1\nyesterday,1\n2012-03-01T00:00:00,2\n')).toThrow(/line 2: bad ts/);
    expect(() => parseSeriesCsv('ts,s1\n2012-03-01T00:00:00,2\n')).toThrow(/two distinct ts/);
  });

  it('parses zoned and zoneless timestamps', () => {
    expect(parseTs('2026-03-02T06:00:00Z')).toBe(Date.UTC(2026, 2, 2, 6));
    expect(parseTs('2026-03-02T08:00:00+02:00')).toBe(Date.UTC(2026, 2, 2, 6));
    expect(parseTs('2026-03-02T06:00:00')).toBe(Date.UTC(2026, 2, 2, 6));
  });
});

describe('parseAdjacencyCsv', () => {
  it('reads from,to,weight and rejects malformed rows', () => {
    expect(parseAdjacencyCsv('from,to,weight\na,b,0.5\nb,a,0.25\n')).toEqual([
      { from: 'a', to: 'b', weight: 0.5 },
      { from: 'b', to: 'a', weight: 0.25 },
    ]);
    expect(() => parseAdjacencyCsv('from,to,weight\na,,x\n')).toThrow(/line 2/);
    expect(() => parseAdjacencyCsv('x,y\n')).toThrow(/from,to/);
  });
});
