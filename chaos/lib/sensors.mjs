/**
 * Real sensors for the chaos suite: one mqtt.js client, QoS 1, publishing one reading per sensor per
 * data-second (the agent runs on the data clock). A publish mqtt.js gives up on (its connection closed
 * before the PUBACK) is sent again, as sensor firmware does: at-least-once into the agent.
 */
import mqtt from 'mqtt';

export const T0 = Date.UTC(2026, 1, 9, 6, 0, 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function readingFor(s, t, roads) {
  return `{"ts":"${new Date(T0 + t * 1000).toISOString()}","sensor_id":"CS-${s}","road_id":"CR-${s % roads}","speed_kmh":${30 + ((t + s) % 25)},"flow_rate":${400 + (t % 300)},"occupancy":0.${(t + s) % 9}}`;
}

export async function startSensors(url, { sensors, roads, stepMs }) {
  const client = await mqtt.connectAsync(url, {
    reconnectPeriod: 100,
    connectTimeout: 2000,
    clean: false,
    clientId: `chaos-sensors-${process.pid}-${Date.now()}`,
  });
  client.on('error', () => {});
  const pubackMs = [];
  let sent = 0;
  let acked = 0;
  let t = 0;
  let running = true;

  const publishUntilAcked = async (topic, payload) => {
    for (;;) {
      const t0 = performance.now();
      try {
        await client.publishAsync(topic, payload, { qos: 1 });
        pubackMs.push(performance.now() - t0);
        return;
      } catch {
        await sleep(100);
      }
    }
  };
  const round = (tt, counted = true) =>
    Promise.all(
      Array.from({ length: sensors }, (_, s) =>
        publishUntilAcked(`cityflow/traffic/CS-${s}`, readingFor(s, tt, roads)).then(() => {
          if (counted) acked++;
        }),
      ),
    );

  // one round per data-second, paced; a round waits for its PUBACKs (a sensor's in-flight window)
  const loop = (async () => {
    const start = performance.now();
    while (running) {
      sent += sensors;
      await round(t);
      t++;
      const wait = start + t * stepMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
  })();

  return {
    get sent() {
      return sent;
    },
    get acked() {
      return acked;
    },
    get t() {
      return t;
    },
    pubackMs,
    /** Stops publishing; then one reading per sensor well past the last, to close every minute sent. */
    async stop() {
      running = false;
      await loop;
      const minutes = Math.floor((t - 1) / 60) + 1;
      await round((minutes + 1) * 60 + 30, false);
      await client.endAsync();
      return { dataSeconds: t, minutes };
    },
  };
}
