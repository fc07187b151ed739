/**
 * Property-based test of the CSV replay decoder (issue 9, "Fuzzing"): a dataset file is untrusted
 * input. For any file: the replay either refuses it with CF_INVALID_CONFIG (missing columns) or
 * finishes with every row counted (published + invalid + unknown sensor), and every reading it
 * publishes passes the sensor reading schema. The broker pool is replaced by a recorder: the
 * property is about decoding, and the MQTT path is covered by replay.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CityFlowError, type SensorReading, validateReading } from '@cityflow/protocol';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { FUZZ_RUNS, hostileValue } from '../../test-support/fuzz.js';
import type { BrokerPool } from '../src/broker-pool.js';
import { CSV_COLUMNS, CsvReplay, parseCsvRow } from '../src/replay.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'cf-fuzz-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const field = fc.oneof(
  fc.constantFrom(
    '2026-03-02T06:00:00Z',
    '2026-03-02T06:01:00Z',
    's-1',
    'AB',
    '42.5',
    '',
    '-1',
    '0.5',
    '1e999',
    'NaN',
  ),
  fc.string({ maxLength: 12 }),
  hostileValue.map((v) => String(v).slice(0, 40)),
);
const header = fc.oneof(
  fc.constant([...CSV_COLUMNS]),
  fc.shuffledSubarray([...CSV_COLUMNS, 'extra'], { minLength: 3 }),
);
const row = fc.array(field, { minLength: 0, maxLength: 8 }).map((f) => f.join(','));
const csv = fc
  .tuple(header, fc.array(row, { maxLength: 20 }), fc.constantFrom('\n', '\r\n'))
  .map(([h, rows, eol]) => [h.join(','), ...rows].join(eol));

describe('fuzz: CSV replay', () => {
  it('parseCsvRow never throws on any line', () => {
    const cols = new Map(CSV_COLUMNS.map((c, i) => [c, i]));
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (line) => {
        const v = parseCsvRow(cols, line);
        expect(typeof v).toBe('object');
      }),
      { numRuns: FUZZ_RUNS * 3 },
    );
  });

  it('a replay refuses a file without the columns, or counts every row and publishes only valid readings', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(csv, async (text) => {
        const file = join(dir, `f${n++}.csv`);
        writeFileSync(file, text);
        const published: SensorReading[] = [];
        const pool = { publish: async (_agent: string, r: SensorReading) => void published.push(r) };
        const replay = new CsvReplay({
          csvPath: file,
          network: undefined,
          pool: pool as unknown as BrokerPool,
          fallbackAgent: 'A1',
          speedup: Number.POSITIVE_INFINITY,
          log,
        });
        try {
          const stats = await replay.run();
          expect(stats.published + stats.invalid + stats.unknownSensor).toBe(stats.rows);
          expect(published.length).toBe(stats.published);
          for (const r of published) expect(validateReading(r).ok).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(CityFlowError);
          expect((e as CityFlowError).code).toBe('CF_INVALID_CONFIG');
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
