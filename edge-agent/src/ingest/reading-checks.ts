import { type ErrorCode, parseReadingMessage } from '@cityflow/protocol';
import type { AgentClock } from '../clock.js';
import type { StoredReading } from '../storage/readings-store.js';
import type { IngestItem } from './group-commit.js';

export type CheckResult =
  | { ok: true; reading: StoredReading }
  | { ok: false; code: ErrorCode; errors: string[] };

/** What the agent knows about its sensors: nothing until the hub sent a network slice. */
export interface SensorDirectory {
  /** sensor_id -> road_id, or null before any slice was received. */
  sensors(): Map<string, string> | null;
}

export interface TimeLimits {
  maxFutureS: number;
  maxPastH: number;
}

/**
 * Every rule a reading must pass beyond the schema (protocol's `parseReadingMessage` does size, JSON,
 * schema and topic/payload agreement):
 * - unknown sensor: absent from the last slice -> rejected; before any slice -> kept and flagged;
 * - a sensor on another road than the slice says -> rejected;
 * - time: newer than now + maxFutureS or older than now − maxPastH -> rejected. In `data` mode "now"
 *   is the newest accepted reading time: before the first one there is no rule; after it, a reading
 *   more than maxFutureS ahead is rejected rather than dragging the data clock (one sensor running
 *   ahead would otherwise close everyone's minutes early) — unless a second sensor (or the only one
 *   in the slice) is ahead too with nothing accepted in between: then the data jumped, and the
 *   clock follows it (the earlier ahead readings stay rejected).
 *   On a wall clock that is obviously unset (before 2025, no hub time heard yet) time rules are
 *   suspended rather than rejecting every good reading from sensors with a correct clock.
 */
export function checkReading(
  sensorId: string,
  payload: Uint8Array | string,
  dir: SensorDirectory,
  clock: AgentClock,
  limits: TimeLimits,
): CheckResult {
  const r = parseReadingMessage(sensorId, payload);
  if (!r.ok) return r;
  const { reading, tsMs } = r;
  const known = dir.sensors();
  let flagged = false;
  if (known === null) flagged = true;
  else {
    const road = known.get(reading.sensor_id);
    if (road === undefined)
      return {
        ok: false,
        code: 'CF_UNKNOWN_SENSOR',
        errors: [`sensor_id: ${reading.sensor_id} is not in this agent's network slice`],
      };
    if (road !== reading.road_id)
      return {
        ok: false,
        code: 'CF_INVALID_READING',
        errors: [
          `road_id: sensor ${reading.sensor_id} is on road ${road} in the network slice, not ${reading.road_id}`,
        ],
      };
  }
  if (!clock.untrusted()) {
    const now = clock.now();
    const ref = clock.futureRef();
    const ahead = (clock.mode === 'wall' || ref > 0) && tsMs > ref + limits.maxFutureS * 1000;
    // Data mode: one sensor ahead is rejected; the data itself jumping (a gap in a replay) shows as
    // several sensors ahead in a row with nothing accepted between, and is followed.
    const jump = ahead && clock.mode === 'data' && clock.noteAhead(sensorId) >= Math.min(2, known?.size ?? 2);
    if (ahead && !jump)
      return {
        ok: false,
        code: 'CF_TS_FUTURE',
        errors: [
          `ts: ${Math.round((tsMs - ref) / 1000)} s ahead of the agent clock (limit ${limits.maxFutureS} s)`,
        ],
      };
    if (now > 0 && tsMs < now - limits.maxPastH * 3_600_000)
      return {
        ok: false,
        code: 'CF_TS_PAST',
        errors: [
          `ts: ${Math.round((now - tsMs) / 3_600_000)} h behind the agent clock (limit ${limits.maxPastH} h)`,
        ],
      };
  }
  return {
    ok: true,
    reading: {
      tsMs,
      sensorId: reading.sensor_id,
      roadId: reading.road_id,
      speed: reading.speed_kmh,
      flow: reading.flow_rate,
      occ: reading.occupancy,
      flagged,
    },
  };
}

/** What goes to the group commit: the reading, or its quarantine row (payload kept as text). */
export function toIngestItem(r: CheckResult, topic: string, payload: Buffer, recvMs: number): IngestItem {
  if (r.ok) return { kind: 'reading', reading: r.reading, recvMs };
  return {
    kind: 'quarantine',
    row: { recvMs, topic, code: r.code, errors: r.errors, payload: payload.toString('utf8') },
  };
}
