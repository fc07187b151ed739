/**
 * Property-based tests of the agent's trust boundaries (issue 9, "Fuzzing"): the sensor ingest
 * decoder (what a laptop on the cabinet's sensor network can send), the hub's downlink (acks,
 * config, advice, diagnostics requests), and the config file loader. For any input: no throw past
 * the boundary, structured errors, and nothing invalid reaches a handler or the store.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AckSchema,
  AdviceSchema,
  AgentConfigSchema,
  CityFlowError,
  ErrorCodes,
  READING_LIMITS,
  topics,
} from '@cityflow/protocol';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, decoderInput, hostileValue, wireInput } from '../../test-support/fuzz.js';
import { AgentClock } from '../src/clock.js';
import { AgentConfigFileSchema, readConfigFile, resolveConfig } from '../src/config.js';
import { routeHubMessage } from '../src/downlink/hub-messages.js';
import { checkReading, toIngestItem } from '../src/ingest/reading-checks.js';
import { tempDir } from './helpers/util.js';

const T = Date.UTC(2026, 2, 2, 8, 0, 0);
const reading = {
  ts: new Date(T).toISOString(),
  sensor_id: 'S-1',
  road_id: 'R-1',
  speed_kmh: 40,
  flow_rate: 500,
  occupancy: 0.2,
};
const slice = { sensors: () => new Map([['S-1', 'R-1']]) };
const limits = { maxFutureS: 300, maxPastH: 24 };
const silent = pino({ level: 'silent' });

describe('fuzz: edge agent boundaries', () => {
  it('sensor ingest decoder: never throws; accepted readings are known, in bounds and in the time window; refused ones go to quarantine with a code', () => {
    fc.assert(
      fc.property(wireInput(reading), fc.constantFrom('S-1', 'S-2'), (payload, topicSensor) => {
        const clock = new AgentClock('wall', () => T);
        const r = checkReading(topicSensor, payload, slice, clock, limits);
        const item = toIngestItem(r, topics.sensor(topicSensor), payload, T);
        if (!r.ok) {
          expect(Object.keys(ErrorCodes)).toContain(r.code);
          expect(item).toMatchObject({ kind: 'quarantine', row: { code: r.code } });
          return;
        }
        expect(item.kind).toBe('reading');
        expect(r.reading.sensorId).toBe(topicSensor);
        expect(slice.sensors().get(r.reading.sensorId)).toBe(r.reading.roadId);
        expect(r.reading.tsMs).toBeGreaterThanOrEqual(T - limits.maxPastH * 3_600_000);
        expect(r.reading.tsMs).toBeLessThanOrEqual(T + limits.maxFutureS * 1000);
        expect(
          r.reading.speed === null || (r.reading.speed >= 0 && r.reading.speed <= READING_LIMITS.maxSpeedKmh),
        ).toBe(true);
        expect(r.reading.flow >= 0 && r.reading.flow <= READING_LIMITS.maxFlowVph).toBe(true);
        expect(r.reading.occ >= 0 && r.reading.occ <= 1).toBe(true);
      }),
      { numRuns: FUZZ_RUNS * 3 },
    );
  });

  it('hub downlink (acks, config, advice, diag requests): never throws; handlers get only valid messages for this agent', () => {
    const samples = {
      ack: { v: 1, agent_id: 'A1', stream: 'summary', watermark: 3, hub_ts: reading.ts },
      config: {
        v: 1,
        agent_id: 'A1',
        issued_at: reading.ts,
        network: { type: 'FeatureCollection', features: [] },
      },
      advice: { v: 1, agent_id: 'A1', issued_at: reading.ts, items: [] },
      diag: { v: 1, request_id: 'r', kind: 'raw', from: reading.ts, to: reading.ts },
    };
    const topicOf = {
      ack: topics.ack('A1', 'summary'),
      config: topics.config('A1'),
      advice: topics.advice('A1'),
      diag: topics.diagRequest('A1'),
    };
    const kind = fc.constantFrom('ack', 'config', 'advice', 'diag') as fc.Arbitrary<keyof typeof samples>;
    fc.assert(
      fc.property(
        kind.chain((k) => fc.tuple(fc.constant(k), wireInput(samples[k]))),
        fc.oneof(fc.constant(null), fc.string()),
        ([k, payload], otherTopic) => {
          const got: string[] = [];
          routeHubMessage(otherTopic ?? topicOf[k], payload, {
            agentId: 'A1',
            log: silent,
            ack: (a) => {
              expect(Value.Check(AckSchema, a)).toBe(true);
              got.push('ack');
            },
            config: (c) => {
              expect(Value.Check(AgentConfigSchema, c)).toBe(true);
              got.push('config');
              return [];
            },
            advice: (a) => {
              expect(Value.Check(AdviceSchema, a)).toBe(true);
              got.push('advice');
            },
            // the diagnostics answer validates the raw request itself (it reports errors to the hub)
            diag: () => got.push('diag'),
          });
          expect(got.length).toBeLessThanOrEqual(1);
          if (otherTopic !== null && otherTopic !== topicOf[k])
            expect(got.filter((g) => g !== 'diag')).toEqual([]);
        },
      ),
      { numRuns: FUZZ_RUNS * 2 },
    );
  });

  it('config files: the loader and resolver throw only CityFlowError (CF_INVALID_CONFIG); an accepted config satisfies the schema', () => {
    const { dir, cleanup } = tempDir();
    const sample = {
      agentId: 'A1',
      mqttPort: 1883,
      hubUrl: 'mqtt://hub:1883',
      sensorCredentials: { 'S-1': 'pw' },
      liveIntervalS: 5,
    };
    let n = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          decoderInput(sample).map((v) => JSON.stringify(v) ?? ''),
          fc.string(),
          fc.constantFrom(
            'a: [',
            '{',
            ': : :',
            '- - -\n  x',
            '!!binary ZZZ',
            '&a [*a]',
            'agentId: A1\nmqttPort: 99999',
          ),
        ),
        fc.constantFrom('json', 'yaml', 'conf'),
        fc.dictionary(fc.constantFrom('agentId', 'mqttPort', 'dataDir', 'clock'), hostileValue, {
          maxKeys: 2,
        }),
        (text, ext, overrides) => {
          const file = join(dir, `c${n++}.${ext}`);
          writeFileSync(file, text);
          try {
            const cfg = resolveConfig(readConfigFile(file), overrides);
            expect(Value.Check(AgentConfigFileSchema, cfg)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(CityFlowError);
            expect((e as CityFlowError).code).toBe('CF_INVALID_CONFIG');
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    cleanup();
  });
});
