import { readFileSync } from 'node:fs';

/**
 * Transport settings of the hub (TLS for MQTT and HTTP, embedded broker limits), read from the
 * environment and checked with the rest of the configuration (every error reported at once).
 * PEM files are read here, at start, so a missing file stops startup with its variable's name.
 */
export interface TransportOptions {
  /** PEM certificate (chain) and key of the embedded broker's mqtts listener */
  mqttTlsCert?: string;
  mqttTlsKey?: string;
  /** mqtts port (default 8883; 0 = a free port) */
  mqttTlsPort?: number;
  /** PEM CA of agent client certificates: set = mutual TLS (a certificate is required, its CN = the agent id) */
  mqttTlsCa?: string;
  /** false: no plaintext listener for agents (default true) */
  mqttPlaintext?: boolean;
  /** PEM certificate and key: the API and console are served over HTTPS */
  httpsCert?: string;
  httpsKey?: string;
  /** embedded broker: open connections at once (default 10,000; 0 = unlimited) */
  mqttMaxConnections?: number;
  /** embedded broker: publishes per second per agent connection (default 200; 0 = unlimited) */
  mqttPublishRatePerS?: number;
}

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

function num(name: string, v: string | undefined, errors: string[]): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) errors.push(`${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

/** The environment variables (MQTT_PLAINTEXT is parsed by the caller's boolean rule). */
export function transportFromEnv(
  env: NodeJS.ProcessEnv,
  errors: string[],
  bool: (name: string, v: string | undefined) => boolean | undefined,
): TransportOptions {
  return {
    mqttTlsCert: env.MQTT_TLS_CERT || undefined,
    mqttTlsKey: env.MQTT_TLS_KEY || undefined,
    mqttTlsPort: num('MQTT_TLS_PORT', env.MQTT_TLS_PORT, errors),
    mqttTlsCa: env.MQTT_TLS_CA || undefined,
    mqttPlaintext: bool('MQTT_PLAINTEXT', env.MQTT_PLAINTEXT),
    httpsCert: env.HTTPS_CERT || undefined,
    httpsKey: env.HTTPS_KEY || undefined,
    mqttMaxConnections: num('MQTT_MAX_CONNECTIONS', env.MQTT_MAX_CONNECTIONS, errors),
    mqttPublishRatePerS: num('MQTT_PUBLISH_RATE', env.MQTT_PUBLISH_RATE, errors),
  };
}

function readPem(name: string, file: string | undefined, errors: string[]): Buffer | undefined {
  if (file === undefined) return undefined;
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

export function resolveTransport(o: TransportOptions, external: boolean, errors: string[]): TransportConfig {
  const port = o.mqttTlsPort ?? 8883;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    errors.push(`MQTT_TLS_PORT: expected a port 0..65535, got ${port}`);
  const tls = pair('MQTT_TLS_CERT', 'MQTT_TLS_KEY', o.mqttTlsCert, o.mqttTlsKey, errors);
  const ca = readPem('MQTT_TLS_CA', o.mqttTlsCa, errors);
  if (o.mqttTlsCa !== undefined && o.mqttTlsCert === undefined)
    errors.push('MQTT_TLS_CA: client certificates need the mqtts listener (MQTT_TLS_CERT, MQTT_TLS_KEY)');
  const plaintext = o.mqttPlaintext ?? true;
  if (!plaintext && o.mqttTlsCert === undefined)
    errors.push('MQTT_PLAINTEXT=false: needs the mqtts listener (MQTT_TLS_CERT, MQTT_TLS_KEY)');
  if (external && (o.mqttTlsCert !== undefined || o.mqttPlaintext === false))
    errors.push(
      'MQTT_TLS_CERT, MQTT_PLAINTEXT: settings of the embedded broker; with MQTT_URL the external broker owns its listeners',
    );
  const maxConnections = o.mqttMaxConnections ?? 10_000;
  if (!(Number.isInteger(maxConnections) && maxConnections >= 0))
    errors.push(`MQTT_MAX_CONNECTIONS: expected an integer >= 0, got ${maxConnections}`);
  const rate = o.mqttPublishRatePerS ?? 200;
  if (!(rate >= 0)) errors.push(`MQTT_PUBLISH_RATE: expected a number >= 0, got ${rate}`);
  return {
    mqttTls: tls ? { ...tls, port, ca } : undefined,
    mqttPlaintext: plaintext,
    https: pair('HTTPS_CERT', 'HTTPS_KEY', o.httpsCert, o.httpsKey, errors),
    mqttMaxConnections: maxConnections,
    mqttPublishRatePerS: rate,
  };
}
