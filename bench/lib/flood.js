/**
 * Hostile MQTT clients, shared by bench/broker-flood.js and the flood tests of the agent and hub:
 * connections that announce a huge packet and stream it, retained publishes of big payloads, and the
 * peak memory of the process under attack (VmHWM from /proc: the high-water mark, not a sample).
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import mqtt from 'mqtt';

/** A fixed header announcing `len` body bytes (MQTT 3.1.1 §2.2.3). */
export function fixedHeader(type, len) {
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

/** One connection: a CONNECT header announcing `announce` bytes, then zeros until closed or `maxBytes` sent. */
function oversizeOne(port, announce, maxBytes) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let written = 0;
    let closedByPeer = false;
    const chunk = Buffer.alloc(64 * 1024);
    const finish = () => resolve({ written, closedByPeer });
    s.on('error', () => {
      closedByPeer = true;
    });
    s.on('close', finish);
    s.on('end', () => {
      closedByPeer = true;
    });
    s.on('connect', () => {
      s.write(fixedHeader(0x10, announce));
      const pump = () => {
        while (written < maxBytes && !s.destroyed) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        if (written >= maxBytes) s.end();
      };
      pump();
    });
  });
}

/** `connections` at once, each announcing `announce` bytes and streaming up to `maxBytes`. */
export async function oversizeFlood(port, { connections, announce, maxBytes }) {
  const r = await Promise.all(
    Array.from({ length: connections }, () => oversizeOne(port, announce, maxBytes)),
  );
  return {
    connections,
    closed_by_broker: r.filter((x) => x.closedByPeer).length,
    max_bytes_written: Math.max(...r.map((x) => x.written)),
  };
}

/**
 * `count` retained publishes of `size` bytes (QoS 1) to `topic(i)`; a broker that cuts the connection
 * gets a new one for the next publish. Returns how many were acknowledged and how many cut.
 */
export async function retainedFlood(url, { count, size, topic, options = {} }) {
  const payload = Buffer.alloc(size, 0x61);
  let client = null;
  let acked = 0;
  let cut = 0;
  for (let i = 0; i < count; i++) {
    if (!client?.connected) {
      client?.end(true);
      client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
    }
    const c = client;
    const outcome = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), 10_000);
      const onClose = () => {
        clearTimeout(timer);
        resolve('cut');
      };
      c.once('close', onClose);
      c.publish(topic(i), payload, { qos: 1, retain: true }, (err) => {
        clearTimeout(timer);
        c.off('close', onClose);
        resolve(err ? 'cut' : 'acked');
      });
    });
    if (outcome === 'acked') acked++;
    else cut++;
  }
  client?.end(true);
  return { count, size, acked, cut };
}

/** Peak and current resident memory of a process (Linux /proc), bytes. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(status.match(new RegExp(`${k}:\\s+(\\d+) kB`))?.[1] ?? Number.NaN) * 1024;
  return { peak_rss_bytes: kb('VmHWM'), rss_bytes: kb('VmRSS') };
}

/** Milliseconds from a QoS 1 publish to its PUBACK on a fresh connection. */
export async function pubackMs(url, topic, payload, options = {}) {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  const t0 = performance.now();
  await c.publishAsync(topic, payload, { qos: 1 });
  const ms = performance.now() - t0;
  await c.endAsync();
  return Math.round(ms * 100) / 100;
}

/** `count` of a refusal reason in a Prometheus text page. */
export function refusals(metricsText, name, reason) {
  const m = metricsText.match(new RegExp(`${name}\\{reason="${reason}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
}
