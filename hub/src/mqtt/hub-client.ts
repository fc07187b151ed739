import { randomBytes } from 'node:crypto';
import { redactUrl, topics } from '@cityflow/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { HUB_USERNAME } from './acl.js';

export type MessageHandler = (topic: string, payload: Buffer) => void;

/**
 * The hub's own MQTT connection. With an external broker and several replicas, the uplink and status
 * subscriptions are shared (`$share/hub/...`) so each message goes to one replica only.
 */
export class HubMqttClient {
  private client: MqttClient | null = null;

  constructor(
    private readonly url: string,
    private readonly credentials: { username?: string; password?: string },
    private readonly shared: boolean,
    private readonly onMessage: MessageHandler,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const client = mqtt.connect(this.url, {
      clientId: `hub:${randomBytes(6).toString('hex')}`,
      username: this.credentials.username,
      password: this.credentials.password,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (e) => this.log.warn({ err: e.message }, 'hub mqtt client error'));
    client.on('offline', () => this.log.warn('hub mqtt client offline'));
    const filters = [topics.hubUplinkFilter(), topics.hubStatusFilter()].map((f) =>
      this.shared ? topics.shared('hub', f) : f,
    );
    // Subscribe on every (re)connect: a clean session forgets subscriptions.
    client.on('connect', () => {
      client.subscribe(filters, { qos: 1 }, (err) => {
        if (err) this.log.error({ err: err.message }, 'hub mqtt subscribe failed');
      });
    });
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => {
        client.end(true);
        reject(new Error(`cannot connect to the MQTT broker ${redactUrl(this.url)}: ${e.message}`));
      };
      client.once('connect', () => {
        client.off('error', onErr);
        resolve();
      });
      client.once('error', onErr);
    });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async publish(topic: string, payload: unknown, opts: { qos: 0 | 1; retain: boolean }): Promise<void> {
    const c = this.client;
    if (!c) throw new Error('hub mqtt client not started');
    await c.publishAsync(topic, JSON.stringify(payload), opts);
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync();
  }
}

export function embeddedCredentials(hubSecret: string) {
  return { username: HUB_USERNAME, password: hubSecret };
}
