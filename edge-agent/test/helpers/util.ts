import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SensorReading } from '@cityflow/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach } from 'vitest';

export function tempDir(prefix = 'cf-agent-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  stepMs = 20,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export async function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
}

export function reading(
  sensor: string,
  road: string,
  tsMs: number,
  speed: number | null = 40,
  extra: Partial<SensorReading> = {},
): string {
  return JSON.stringify({
    ts: new Date(tsMs).toISOString(),
    sensor_id: sensor,
    road_id: road,
    speed_kmh: speed,
    flow_rate: 600,
    occupancy: 0.1,
    ...extra,
  });
}

/** Publishes and resolves on PUBACK (QoS 1). */
export function pub(c: MqttClient, sensor: string, payload: string, qos: 0 | 1 = 1): Promise<unknown> {
  return c.publishAsync(`cityflow/traffic/${sensor}`, payload, { qos });
}

/**
 * Teardown list for the enclosing describe: tests push what they start, and after each test it is
 * released newest first (agents before the hubs and directories they use).
 */
export function useCleanups(): Array<() => Promise<void> | void> {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });
  return cleanups;
}
