import { type Static, Type } from '@sinclair/typebox';
import type { ErrorCode } from './errors.js';
import { ID_PATTERN } from './topics.js';
import { compileValidator } from './validation.js';

/** RFC 3339 date-time with an explicit zone (`Z` or `±hh:mm`), as the seed's sensors send. */
export const RFC3339_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|z|[+-]\\d{2}:\\d{2})$';

/** Physical plausibility bounds: anything outside is a broken sensor, not traffic. */
export const READING_LIMITS = {
  maxSpeedKmh: 250,
  maxFlowVph: 10_000,
  /** A whole JSON reading is ~130 bytes; 1 KiB leaves room for extra members without inviting abuse. */
  maxPayloadBytes: 1024,
} as const;

const Id = Type.String({ pattern: ID_PATTERN });

/**
 * One sensor reading (seed format): `speed_kmh` is null when no vehicle passed in the interval;
 * `flow_rate` is vehicles/hour; `occupancy` is the share of the interval the detector was occupied.
 * Extra members are allowed and ignored, so newer sensors can add fields.
 */
export const SensorReadingSchema = Type.Object({
  ts: Type.String({ pattern: RFC3339_PATTERN }),
  sensor_id: Id,
  road_id: Id,
  speed_kmh: Type.Union([Type.Number({ minimum: 0, maximum: READING_LIMITS.maxSpeedKmh }), Type.Null()]),
  flow_rate: Type.Number({ minimum: 0, maximum: READING_LIMITS.maxFlowVph }),
  occupancy: Type.Number({ minimum: 0, maximum: 1 }),
});
export type SensorReading = Static<typeof SensorReadingSchema>;

const checkReading = compileValidator(SensorReadingSchema);

export type ReadingResult =
  | { ok: true; reading: SensorReading; tsMs: number }
  | { ok: false; code: ErrorCode; errors: string[] };

/** Validates an already-parsed reading value (schema, finiteness, a real calendar time). */
export function validateReading(value: unknown): ReadingResult {
  const r = checkReading(value);
  if (!r.ok) return { ok: false, code: 'CF_INVALID_READING', errors: r.errors };
  const reading = r.value;
  const tsMs = Date.parse(reading.ts);
  // The pattern admits 2026-02-31; Date.parse does not.
  if (!Number.isFinite(tsMs))
    return { ok: false, code: 'CF_INVALID_READING', errors: ['ts: not a real time'] };
  return { ok: true, reading, tsMs };
}

/**
 * Parses a reading exactly as it arrives from MQTT: size, JSON, schema, and the rule that the
 * `sensor_id` of the topic `cityflow/traffic/{sensor_id}` and of the payload agree.
 */
export function parseReadingMessage(
  topicSensorId: string,
  payload: Uint8Array | string,
  maxBytes: number = READING_LIMITS.maxPayloadBytes,
): ReadingResult {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > maxBytes)
    return { ok: false, code: 'CF_OVERSIZE', errors: [`(root): ${size} bytes, limit ${maxBytes}`] };
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (e) {
    return { ok: false, code: 'CF_INVALID_JSON', errors: [`(root): ${(e as Error).message}`] };
  }
  const result = validateReading(value);
  if (result.ok && result.reading.sensor_id !== topicSensorId)
    return {
      ok: false,
      code: 'CF_TOPIC_MISMATCH',
      errors: [
        `sensor_id: ${JSON.stringify(result.reading.sensor_id)} differs from topic ${JSON.stringify(topicSensorId)}`,
      ],
    };
  return result;
}
