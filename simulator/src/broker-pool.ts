import { CityFlowError, type SensorReading, topics } from '@cityflow/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from './logger.js';

/**
 * One MQTT connection per distinct broker URL (agents sharing a broker share a client), each
 * publishing as anonymous sensors do. Disconnections are logged, not fatal: mqtt.js reconnects.
 */
export class BrokerPool {
  private readonly clients = new Map<string, MqttClient>();
  published = 0;
  failed = 0;

  constructor(
    private readonly brokers: Map<string, string>,
    private readonly qos: 0 | 1,
    private readonly log: Logger,
    private readonly connectTimeoutMs = 10_000,
  ) {}

  async start(): Promise<void> {
    const urls = [...new Set(this.brokers.values())];
    await Promise.all(urls.map((url) => this.connect(url)));
  }

  private connect(url: string): Promise<void> {
    const client = mqtt.connect(url, {
      clientId: `cityflow-sim-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      reconnectPeriod: 1000,
      connectTimeout: this.connectTimeoutMs,
    });
    this.clients.set(url, client);
    // Before the first connection a refused connect only means the broker is still starting
    // (the demo starts the fleet alongside its agents): debug, not a warning.
    let everConnected = false;
    client.on('connect', () => {
      everConnected = true;
    });
    const level = () => (everConnected ? 'warn' : 'debug');
    client.on('error', (err) => this.log[level()]({ broker: url, err: err.message }, 'broker error'));
    client.on('offline', () => this.log[level()]({ broker: url }, 'broker offline, reconnecting'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.removeListener('connect', onConnect);
        reject(
          new CityFlowError(
            'CF_INVALID_CONFIG',
            `cannot connect to broker ${url} within ${this.connectTimeoutMs} ms`,
          ),
        );
      }, this.connectTimeoutMs);
      const onConnect = () => {
        clearTimeout(timer);
        this.log.info({ broker: url }, 'connected to broker');
        resolve();
      };
      client.once('connect', onConnect);
    });
  }

  /** Publishes one reading to its agent's broker; resolves once sent (QoS 0) or acknowledged (QoS 1). */
  publish(agentId: string, reading: SensorReading): Promise<void> {
    return this.publishRaw(agentId, {
      topic: topics.sensor(reading.sensor_id),
      payload: JSON.stringify(reading),
    });
  }

  /** Publishes any payload (fault injection sends broken ones); never rejects, failures are counted. */
  publishRaw(agentId: string, msg: { topic: string; payload: string }): Promise<void> {
    const url = this.brokers.get(agentId);
    const client = url ? this.clients.get(url) : undefined;
    if (!client) {
      this.failed++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      client.publish(msg.topic, msg.payload, { qos: this.qos }, (err) => {
        if (err) {
          this.failed++;
          this.log.debug({ topic: msg.topic, err: err.message }, 'publish failed');
        } else this.published++;
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    // Forced: a QoS 1 publish in flight to a dead broker would otherwise hold graceful end() forever,
    // and a simulated reading lost at shutdown costs nothing.
    await Promise.all([...this.clients.values()].map((c) => c.endAsync(true)));
    this.clients.clear();
  }
}
