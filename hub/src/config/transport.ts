import { readFileSync } from 'node:fs';
import type { HubSettings } from './settings.js';

/**
 * The transport rules of the hub that span several settings (TLS for MQTT and HTTP, the embedded
 * broker's listeners); each setting's own form is checked by the settings schema. PEM files are read
 * here, at start, so a missing file stops startup with its variable's name.
 */
export type TransportSettings = Pick<
  HubSettings,
  | 'mqttUrl'
  | 'mqttTlsCert'
  | 'mqttTlsKey'
  | 'mqttTlsPort'
  | 'mqttTlsCa'
  | 'mqttPlaintext'
  | 'httpsCert'
  | 'httpsKey'
  | 'mqttMaxConnections'
  | 'mqttPublishRatePerS'
>;

export interface Pem {
  cert: Buffer;
  key: Buffer;
}

export interface TransportConfig {
  mqttTls: (Pem & { port: number; ca: Buffer | undefined }) | undefined;
  mqttPlaintext: boolean;
  https: Pem | undefined;
  mqttMaxConnections: number;
  mqttPublishRatePerS: number;
}

function readPem(name: string, file: unknown, errors: string[]): Buffer | undefined {
  // not a file name: the schema has reported it already
  if (typeof file !== 'string' || file === '') return undefined;
  try {
    return readFileSync(file);
  } catch (e) {
    errors.push(`${name}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return undefined;
  }
}

function pair(
  certName: string,
  keyName: string,
  cert: string | undefined,
  key: string | undefined,
  errors: string[],
): Pem | undefined {
  if ((cert === undefined) !== (key === undefined)) {
    errors.push(`${certName} and ${keyName}: set both or neither`);
    return undefined;
  }
  const c = readPem(certName, cert, errors);
  const k = readPem(keyName, key, errors);
  return c && k ? { cert: c, key: k } : undefined;
}

export function resolveTransport(o: TransportSettings, errors: string[]): TransportConfig {
  const tls = pair('MQTT_TLS_CERT', 'MQTT_TLS_KEY', o.mqttTlsCert, o.mqttTlsKey, errors);
  const ca = readPem('MQTT_TLS_CA', o.mqttTlsCa, errors);
  if (o.mqttTlsCa !== undefined && o.mqttTlsCert === undefined)
    errors.push('MQTT_TLS_CA: client certificates need the mqtts listener (MQTT_TLS_CERT, MQTT_TLS_KEY)');
  if (!o.mqttPlaintext && o.mqttTlsCert === undefined)
    errors.push('MQTT_PLAINTEXT=false: needs the mqtts listener (MQTT_TLS_CERT, MQTT_TLS_KEY)');
  if (o.mqttUrl !== undefined && (o.mqttTlsCert !== undefined || o.mqttPlaintext === false))
    errors.push(
      'MQTT_TLS_CERT, MQTT_PLAINTEXT: settings of the embedded broker; with MQTT_URL the external broker owns its listeners',
    );
  return {
    mqttTls: tls ? { ...tls, port: o.mqttTlsPort, ca } : undefined,
    mqttPlaintext: o.mqttPlaintext,
    https: pair('HTTPS_CERT', 'HTTPS_KEY', o.httpsCert, o.httpsKey, errors),
    mqttMaxConnections: o.mqttMaxConnections,
    mqttPublishRatePerS: o.mqttPublishRatePerS,
  };
}
