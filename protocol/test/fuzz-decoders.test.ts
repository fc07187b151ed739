/**
 * Property-based tests of the protocol decoders every trust boundary uses (issue 9, "Fuzzing"):
 * sensor readings (agent ← sensors), uplink batches and snapshots (hub ← agents), acks, config,
 * advice and diagnostics requests (agent ← hub), network files, topics. For any input: no throw, a
 * structured error (`path: message` lines, a stable code), and whatever is accepted obeys the rules.
 */
import {
  AckSchema,
  AdviceSchema,
  AgentConfigSchema,
  DiagRequestSchema,
  ErrorCodes,
  ForecastBatchSchema,
  LiveSnapshotSchema,
  READING_LIMITS,
  SensorReadingSchema,
  SummaryBatchSchema,
  loadNetwork,
  parseReadingMessage,
  parseTopic,
  topics,
  validateAck,
  validateAdvice,
  validateAgentConfig,
  validateAgentHealth,
  validateAgentStatus,
  validateDiagRequest,
  validateForecastBatch,
  validateLiveSnapshot,
  validateSummaryBatch,
} from '@cityflow/protocol';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, decoderInput, wireInput } from '../../test-support/fuzz.js';

const T = '2026-03-02T08:00:00Z';
export const SAMPLES = {
  reading: {
    ts: T,
    sensor_id: 'S-1',
    road_id: 'R-1',
    speed_kmh: 42.5,
    flow_rate: 600,
    occupancy: 0.2,
  },
  summaryBatch: {
    v: 1,
    agent_id: 'A1',
    stream: 'summary',
    sent_at: T,
    items: [
      {
        seq: 1,
        sensor_id: 'S-1',
        road_id: 'R-1',
        minute: T,
        count: 10,
        null_speed_count: 2,
        speed_mean: 40,
        speed_min: 30,
        speed_max: 50,
        flow_mean: 600,
        occupancy_mean: 0.1,
      },
    ],
    skipped: [[2, 3]],
  },
  forecastBatch: {
    v: 1,
    agent_id: 'A1',
    stream: 'forecast',
    sent_at: T,
    items: [
      {
        seq: 1,
        ts: T,
        target_ts: '2026-03-02T08:30:00Z',
        road_id: 'R-1',
        horizon_min: 30,
        speed_kmh: 35,
        speed_lo_kmh: 30,
        speed_hi_kmh: 40,
        congestion_score: 0.4,
        confidence: 0.8,
        model_version: 'cityflow-edge',
      },
    ],
  },
  live: {
    v: 1,
    agent_id: 'A1',
    stream: 'live',
    ts: T,
    roads: [
      {
        road_id: 'R-1',
        ts: T,
        speed_kmh: 40,
        flow_rate: 500,
        occupancy: 0.2,
        congestion_score: 0.3,
        sensors: 1,
        samples: 4,
      },
    ],
  },
  ack: {
    v: 1,
    agent_id: 'A1',
    stream: 'summary',
    watermark: 7,
    hub_ts: T,
    rejected: [{ seq: 3, code: 'CF_X', message: 'm' }],
  },
  advice: {
    v: 1,
    agent_id: 'A1',
    issued_at: T,
    items: [
      {
        ts: T,
        route_id: 'R-1',
        alt_route_id: 'alt-1',
        reason: 'congested',
        estimated_co2_gain: 1.5,
        eta_gain_min: 2,
        path: ['R-2', 'R-3'],
        decision_node: 'N1',
        diverted_share: 0.3,
        valid_until: '2026-03-02T08:05:00Z',
        co2_gain_g_per_vehicle: 12,
      },
    ],
  },
  diagRequest: { v: 1, request_id: 'r-1', kind: 'raw', from: T, to: '2026-03-02T08:05:00Z', limit: 10 },
};

export const NETWORK_SAMPLE = {
  type: 'FeatureCollection',
  features: [
    {
      type: 'Feature',
      geometry: {
        type: 'LineString',
        coordinates: [
          [2.35, 48.85],
          [2.36, 48.85],
        ],
      },
      properties: {
        kind: 'road',
        road_id: 'R-1',
        from_node: 'N1',
        to_node: 'N2',
        length_m: 200,
        lanes: 2,
        speed_limit_kmh: 50,
      },
    },
    {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [2.35, 48.85] },
      properties: { kind: 'intersection', node_id: 'N1', agent_id: 'A1' },
    },
    {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [2.35, 48.85] },
      properties: { kind: 'sensor', sensor_id: 'S-1', road_id: 'R-1', agent_id: 'A1' },
    },
  ],
};

const isStructuredError = (errors: unknown) =>
  Array.isArray(errors) && errors.length > 0 && errors.every((e) => typeof e === 'string' && /: /.test(e));

describe('fuzz: protocol decoders', () => {
  it('sensor readings from MQTT: never throw; accepted = schema, real time, topic agrees, within physical bounds', () => {
    fc.assert(
      fc.property(wireInput(SAMPLES.reading), fc.constantFrom('S-1', 'S-2'), (payload, topicSensor) => {
        const r = parseReadingMessage(topicSensor, payload);
        if (!r.ok) {
          expect(Object.keys(ErrorCodes)).toContain(r.code);
          expect(isStructuredError(r.errors)).toBe(true);
          return;
        }
        expect(payload.byteLength).toBeLessThanOrEqual(READING_LIMITS.maxPayloadBytes);
        expect(Value.Check(SensorReadingSchema, r.reading)).toBe(true);
        expect(r.reading.sensor_id).toBe(topicSensor);
        expect(Number.isFinite(r.tsMs)).toBe(true);
        const s = r.reading.speed_kmh;
        expect(s === null || (s >= 0 && s <= READING_LIMITS.maxSpeedKmh)).toBe(true);
        expect(r.reading.occupancy >= 0 && r.reading.occupancy <= 1).toBe(true);
      }),
      { numRuns: FUZZ_RUNS * 3 },
    );
  });

  const messageDecoders: Array<
    [string, (v: unknown) => { ok: boolean; errors?: string[]; value?: unknown }, TSchema, unknown]
  > = [
    ['summary batch (uplink)', validateSummaryBatch, SummaryBatchSchema, SAMPLES.summaryBatch],
    ['forecast batch (uplink)', validateForecastBatch, ForecastBatchSchema, SAMPLES.forecastBatch],
    ['live snapshot (uplink)', validateLiveSnapshot, LiveSnapshotSchema, SAMPLES.live],
    ['ack (downlink)', validateAck, AckSchema, SAMPLES.ack],
    ['advice (downlink)', validateAdvice, AdviceSchema, SAMPLES.advice],
    ['diagnostics request (downlink)', validateDiagRequest, DiagRequestSchema, SAMPLES.diagRequest],
    [
      'agent config (downlink)',
      validateAgentConfig,
      AgentConfigSchema,
      { v: 1, agent_id: 'A1', issued_at: T, network: NETWORK_SAMPLE },
    ],
  ];
  for (const [name, decode, schema, sample] of messageDecoders)
    it(`${name}: never throws; accepted values satisfy the schema and survive JSON`, () => {
      fc.assert(
        fc.property(decoderInput(sample), (input) => {
          const r = decode(input);
          if (!r.ok) return void expect(isStructuredError(r.errors)).toBe(true);
          expect(Value.Check(schema, r.value)).toBe(true);
          // what is accepted can be stored and sent on: JSON keeps it valid (no NaN/Infinity/undefined)
          expect(Value.Check(schema, JSON.parse(JSON.stringify(r.value)))).toBe(true);
        }),
        { numRuns: FUZZ_RUNS },
      );
    });

  it('status and health (uplink): never throw, structured errors', () => {
    const health = {
      v: 1,
      agent_id: 'A1',
      stream: 'health',
      ts: T,
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
    const status = { v: 1, agent_id: 'A1', state: 'online', ts: T, version: '1' };
    fc.assert(
      fc.property(decoderInput(health), decoderInput(status), (h, s) => {
        for (const r of [validateAgentHealth(h), validateAgentStatus(s)])
          if (!r.ok) expect(isStructuredError(r.errors)).toBe(true);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('network files: never throw; an accepted network is cross-checked (roads exist, ids unique, agents indexed)', () => {
    fc.assert(
      fc.property(decoderInput(NETWORK_SAMPLE), (input) => {
        const r = loadNetwork(input);
        if (!r.ok) return void expect(isStructuredError(r.errors)).toBe(true);
        const net = r.value;
        expect(net.roads.size).toBeGreaterThan(0);
        for (const s of net.sensors.values()) {
          expect(net.roads.has(s.road_id)).toBe(true);
          expect(net.agents.get(s.agent_id)?.sensors).toContain(s.sensor_id);
        }
        for (const road of net.roads.values()) {
          expect(road.length_m).toBeGreaterThan(0);
          expect(Number.isFinite(road.speed_limit_kmh)).toBe(true);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('topics: parseTopic never throws, and what it parses is rebuilt by the topic builders', () => {
    const level = fc.oneof(
      fc.constantFrom('cityflow', 'v1', 'agents', 'up', 'ack', 'summary', 'A1', '+', '#', ''),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(level, { maxLength: 7 }), (levels) => {
        const topic = levels.join('/');
        const t = parseTopic(topic);
        if (!t) return;
        const rebuilt =
          t.kind === 'sensor'
            ? topics.sensor(t.sensorId)
            : t.kind === 'uplink'
              ? topics.uplink(t.agentId, t.stream)
              : t.kind === 'ack'
                ? topics.ack(t.agentId, t.stream)
                : t.kind === 'status'
                  ? topics.status(t.agentId)
                  : t.kind === 'config'
                    ? topics.config(t.agentId)
                    : t.kind === 'advice'
                      ? topics.advice(t.agentId)
                      : t.kind === 'diag-request'
                        ? topics.diagRequest(t.agentId)
                        : topics.localAdvice();
        expect(rebuilt).toBe(topic);
      }),
      { numRuns: FUZZ_RUNS * 3 },
    );
  });
});
