import { describe, expect, it } from 'vitest';
import { optionsFromEnv, resolveConfig } from '../src/config.js';

const errorsOf = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    return (e as { details?: string[] }).details ?? [String(e)];
  }
  return [];
};

describe('hub transport settings from the environment', () => {
  it('MQTT_PLAINTEXT, MQTT_TLS_PORT, MQTT_MAX_CONNECTIONS, MQTT_PUBLISH_RATE: malformed values are all reported', () => {
    expect(
      errorsOf(() =>
        resolveConfig(
          optionsFromEnv({
            MQTT_PLAINTEXT: 'maybe',
            MQTT_TLS_PORT: 'x',
            MQTT_MAX_CONNECTIONS: 'many',
            MQTT_PUBLISH_RATE: 'fast',
            NETWORK_FILE: 'n.geojson',
          }),
        ),
      ),
    ).toEqual([
      'MQTT_TLS_PORT: expected a port 0..65535, got "x" (not an integer)',
      'MQTT_PLAINTEXT: expected true or false, got "maybe" (not true or false)',
      'MQTT_MAX_CONNECTIONS: expected an integer >= 0, got "many" (not an integer)',
      'MQTT_PUBLISH_RATE: expected a number >= 0, got "fast" (not a finite number)',
    ]);
    const o = optionsFromEnv({
      MQTT_PLAINTEXT: 'false',
      MQTT_TLS_CERT: 'c.pem',
      MQTT_TLS_KEY: 'k.pem',
      MQTT_TLS_PORT: '9883',
    });
    expect(o).toMatchObject({
      mqttPlaintext: false,
      mqttTlsCert: 'c.pem',
      mqttTlsKey: 'k.pem',
      mqttTlsPort: 9883,
    });
  });

  it('defaults: plaintext on, no TLS, 10,000 connections, 200 publishes/s per agent; TLS settings are the embedded broker’s', () => {
    const c = resolveConfig({ networkFile: 'n.geojson' });
    expect(c).toMatchObject({
      mqttPlaintext: true,
      mqttTls: undefined,
      https: undefined,
      mqttMaxConnections: 10_000,
      mqttPublishRatePerS: 200,
    });
    expect(
      errorsOf(() =>
        resolveConfig({
          networkFile: 'n.geojson',
          mqttUrl: 'mqtt://b:1883',
          mqttPlaintext: false,
          mqttTlsCert: '/nope',
          mqttTlsKey: '/nope',
        }),
      ),
    ).toContain(
      'MQTT_TLS_CERT, MQTT_PLAINTEXT: settings of the embedded broker; with MQTT_URL the external broker owns its listeners',
    );
  });
});
