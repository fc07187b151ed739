import {
  BrokerGuard,
  FixedHeaderScanner,
  ForecastBatchSchema,
  LiveSnapshotSchema,
  MQTT_LIMITS,
  READING_LIMITS,
  SummaryBatchSchema,
  TokenBucket,
  topics,
  UPLINK_LIMITS,
  validateForecastBatch,
  validateSummaryBatch,
} from '@cityflow/protocol';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';

const enc = (p: object) => mqttPacket.generate(p as mqttPacket.Packet);

/** A remaining-length header announcing `len` body bytes (MQTT 3.1.1 §2.2.3). */
function header(type: number, len: number): Buffer {
  const out = [type];
  let x = len;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    out.push(b);
  } while (x > 0);
  return Buffer.from(out);
}

describe('FixedHeaderScanner (MQTT 3.1.1 §2.2 fixed header on the raw stream)', () => {
  it('refuses a CONNECT that announces 256 MB after its first five bytes, before any body byte', () => {
    const s = new FixedHeaderScanner(MQTT_LIMITS.sensorPacketMaxBytes);
    expect(s.feed(header(0x10, 256 * 1024 * 1024 - 1))).toBe('packet_size');
  });

  it('passes a stream of legal packets split at every byte boundary', () => {
    const stream = Buffer.concat([
      enc({ cmd: 'connect', clientId: 'c1', protocolVersion: 4, keepalive: 30, clean: true }),
      enc({
        cmd: 'publish',
        topic: 'cityflow/traffic/S1',
        payload: Buffer.alloc(1000, 120),
        qos: 1,
        messageId: 7,
      }),
      enc({ cmd: 'pingreq' }),
      enc({ cmd: 'publish', topic: 't', payload: Buffer.alloc(200), qos: 0 }),
      enc({ cmd: 'disconnect' }),
    ]);
    for (let cut = 1; cut < stream.length; cut++) {
      const s = new FixedHeaderScanner(MQTT_LIMITS.sensorPacketMaxBytes);
      expect(s.feed(stream.subarray(0, cut))).toBeNull();
      expect(s.feed(stream.subarray(cut))).toBeNull();
    }
  });

  it('refuses the first packet over the bound even after legal ones, and a five-byte length as malformed', () => {
    const s = new FixedHeaderScanner(4096);
    const ok = enc({ cmd: 'publish', topic: 'cityflow/traffic/S1', payload: Buffer.alloc(4000), qos: 0 });
    expect(ok.length).toBeLessThanOrEqual(4096);
    expect(s.feed(ok)).toBeNull();
    expect(s.feed(enc({ cmd: 'publish', topic: 'x', payload: Buffer.alloc(4096), qos: 0 }))).toBe(
      'packet_size',
    );
    expect(new FixedHeaderScanner(4096).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(
      'malformed',
    );
  });
});

describe('stated bounds', () => {
  const id = 'X'.repeat(64);
  const ts = '2026-02-09T10:00:00.123456789+01:00';
  // the longest JSON.stringify of a double is 24 characters; parsed so Biome sees no lossy literal
  const num = Number('1.2345678901234567e-300');
  const incarnation = 'I'.repeat(64);
  const frac = Number('1234.5678901234567');
  const maxItems = (s: { properties: { items?: { maxItems?: number }; roads?: { maxItems?: number } } }) =>
    (s.properties.items ?? s.properties.roads)?.maxItems as number;

  it('a full uplink batch of the longest legal items fits the hub bound', () => {
    const summary = {
      v: 1,
      agent_id: id,
      stream: 'summary',
      sent_at: ts,
      incarnation,
      items: Array.from({ length: maxItems(SummaryBatchSchema as never) }, (_, i) => ({
        seq: 2 ** 52 + i,
        sensor_id: id,
        road_id: id,
        minute: '2026-02-09T10:00:00.000000000+01:00',
        count: UPLINK_LIMITS.maxReadingsPerMinute,
        null_speed_count: UPLINK_LIMITS.maxReadingsPerMinute,
        speed_mean: 0.1 + num,
        speed_min: 0.1 + num,
        speed_max: 0.1 + num,
        flow_mean: frac,
        occupancy_mean: 0.12345678901234566,
        flagged: true,
      })),
    };
    expect(validateSummaryBatch(summary).ok).toBe(true);
    const forecast = {
      v: 1,
      agent_id: id,
      stream: 'forecast',
      sent_at: ts,
      incarnation,
      items: Array.from({ length: maxItems(ForecastBatchSchema as never) }, (_, i) => ({
        seq: 2 ** 52 + i,
        ts,
        target_ts: ts,
        road_id: id,
        horizon_min: 1440,
        speed_kmh: num,
        speed_lo_kmh: num,
        speed_hi_kmh: num,
        congestion_score: 0.12345678901234566,
        confidence: 0.12345678901234566,
        model_version: 'cityflow-edge',
      })),
    };
    expect(validateForecastBatch(forecast).ok).toBe(true);
    const live = {
      v: 1,
      agent_id: id,
      stream: 'live',
      ts,
      roads: Array.from({ length: maxItems(LiveSnapshotSchema as never) }, () => ({
        road_id: id,
        ts,
        speed_kmh: num,
        flow_rate: frac,
        occupancy: 0.12345678901234566,
        congestion_score: 0.12345678901234566,
        sensors: UPLINK_LIMITS.maxSensorsPerRoad,
        samples: UPLINK_LIMITS.maxSamples,
      })),
    };
    for (const [stream, msg] of [
      ['summary', summary],
      ['forecast', forecast],
      ['live', live],
    ] as const) {
      const packet = enc({
        cmd: 'publish',
        topic: topics.uplink(id, stream),
        payload: Buffer.from(JSON.stringify(msg)),
        qos: 1,
        messageId: 1,
      });
      expect(packet.length, stream).toBeLessThan(MQTT_LIMITS.hubPacketMaxBytes);
    }
  });

  it('the largest legal sensor reading fits the sensor bound', () => {
    const packet = enc({
      cmd: 'publish',
      topic: topics.sensor('S'.repeat(64)),
      payload: Buffer.alloc(READING_LIMITS.maxPayloadBytes),
      qos: 1,
      messageId: 1,
    });
    expect(packet.length).toBeLessThan(MQTT_LIMITS.sensorPacketMaxBytes);
  });
});

describe('rate and connection limits', () => {
  it('a token bucket gives its burst, then its rate', () => {
    let t = 0;
    const b = new TokenBucket(10, 20, () => t);
    let n = 0;
    while (b.take()) n++;
    expect(n).toBe(20);
    t += 500;
    n = 0;
    while (b.take()) n++;
    expect(n).toBe(5);
  });

  it('the guard refuses the connection over its limit and counts each refusal by reason', () => {
    const refused: string[] = [];
    const guard = new BrokerGuard({
      maxPacketBytes: 100,
      maxConnections: 2,
      publishRatePerS: 1,
      onRefuse: (r) => refused.push(r),
      now: () => 0,
    });
    const closers: Array<() => void> = [];
    const sock = () => {
      const s = {
        destroyed: false,
        read: () => null,
        destroy: () => (s.destroyed = true),
        once: (_: 'close', f: () => void) => closers.push(f),
      };
      return s;
    };
    const [a, b, c] = [sock(), sock(), sock()];
    expect(guard.admit(a)).toBe(true);
    expect(guard.admit(b)).toBe(true);
    expect(guard.admit(c)).toBe(false);
    expect(c.destroyed).toBe(true);
    closers[0]?.();
    expect(guard.admit(c)).toBe(true);
    expect([guard.allowPublish(a), guard.allowPublish(a), guard.allowPublish(a)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(refused).toEqual(['connections', 'rate']);
  });
});
