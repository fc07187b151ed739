import { readFileSync } from 'node:fs';
import { CityFlowError, DEFAULT_NETWORK_FILE } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { HubSettingsSchema, environmentHelp, optionsFromEnv, resolveConfig } from '../src/config.js';

const failure = (f: () => unknown): CityFlowError => {
  try {
    f();
  } catch (e) {
    if (e instanceof CityFlowError) return e;
    throw e;
  }
  throw new Error('expected CF_INVALID_CONFIG');
};
const fromEnv = (env: Record<string, string>) =>
  resolveConfig(optionsFromEnv({ NETWORK_FILE: 'n.geojson', ...env }));
const envNames = Object.values(HubSettingsSchema.properties)
  .map((s) => s.env)
  .filter((n): n is string => n !== undefined);

describe('hub configuration: one schema, every error at once', () => {
  it('three bad variables yield three errors, one line each: the variable, the value, the expected form', () => {
    const e = failure(() => fromEnv({ PORT: '70000', CITYFLOW_CLOCK: 'sundial', CITYFLOW_CACHE: 'maybe' }));
    expect(e.code).toBe('CF_INVALID_CONFIG');
    expect(e.details).toEqual([
      'PORT: expected a port 0..65535, got 70000 (too large)',
      'CITYFLOW_CLOCK: expected wall or data, got "sundial" (not one of these)',
      'CITYFLOW_CACHE: expected true or false, got "maybe" (not true or false)',
    ]);
    expect(e.message).toBe(`invalid hub configuration (3 problems):\n  ${e.details.join('\n  ')}`);
  });

  it('a malformed value and the rules between settings are reported together', () => {
    const e = failure(() =>
      fromEnv({
        CITYFLOW_LOGIN_RATE_LIMIT: 'abc',
        CITYFLOW_ADMIN_EMAIL: 'a@city.test',
        DATABASE_URL: 'postgres://db/x',
      }),
    );
    expect(e.details).toEqual([
      'CITYFLOW_LOGIN_RATE_LIMIT: expected a positive integer, got "abc" (not an integer)',
      'CITYFLOW_ADMIN_EMAIL and CITYFLOW_ADMIN_PASSWORD: set both or neither',
      'JWT_SECRET: required with a postgres:// DATABASE_URL (every replica must use the same one)',
    ]);
  });

  it('secrets are never echoed, only their length', () => {
    const e = failure(() =>
      fromEnv({
        JWT_SECRET: 'short-secret',
        CITYFLOW_ADMIN_EMAIL: 'a@city.test',
        CITYFLOW_ADMIN_PASSWORD: 'pw-x',
      }),
    );
    expect(e.details).toEqual([
      'JWT_SECRET: expected at least 16 characters, got 12 characters (too short)',
      'CITYFLOW_ADMIN_PASSWORD: expected at least 8 characters, got 4 characters (too short)',
    ]);
    expect(e.message).not.toMatch(/short-secret|pw-x/);
  });

  it('defaults are the documented ones (hub/README.md)', () => {
    const c = resolveConfig({});
    expect(c).toMatchObject({
      databaseUrl: 'pglite://./data/hub',
      mqttPort: 1884,
      mqttTls: undefined,
      mqttPlaintext: true,
      mqttMaxConnections: 10_000,
      mqttPublishRatePerS: 200,
      https: undefined,
      port: 8081,
      host: '0.0.0.0',
      jwtSecretGenerated: true,
      networkFile: DEFAULT_NETWORK_FILE,
      clock: 'wall',
      cycleIntervalS: 60,
      openRegistration: false,
      seedAgents: [],
      redisPrefix: 'cityflow:',
      corsOrigins: [],
      loginRateLimit: 10,
      loginPasswordRateLimit: 20,
      registerRateLimit: 5,
      diagRateLimit: 6,
      revocationPollMs: 5000,
      trustProxy: false,
      metricsMaxAgents: 1000,
      cache: true,
      pgPool: 10,
      pgQueryTimeoutMs: 15_000,
      ingestQueueAgentBytes: 8 * 1024 * 1024,
      ingestQueueTotalBytes: 256 * 1024 * 1024,
      quarantineMaxBytes: 256 * 1024 * 1024,
      rerouteThreshold: 0.5,
      rerouteClear: 0.4,
      rerouteCompliance: 0.5,
      logLevel: 'info',
      wsHeartbeatMs: 30_000,
      wsMaxBufferedBytes: 1024 * 1024,
    });
    for (const k of [
      'redisUrl',
      'mqttUrl',
      'adminEmail',
      'adminPassword',
      'metricsToken',
      'agentsFile',
    ] as const)
      expect(c[k], k).toBeUndefined();
    expect(c.jwtSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('variables read as before: boolean words, seconds to ms, comma lists, empty = unset', () => {
    const c = fromEnv({
      CITYFLOW_OPEN_REGISTRATION: 'yes',
      CITYFLOW_TRUST_PROXY: 'ON',
      CITYFLOW_CACHE: '0',
      MQTT_PLAINTEXT: '',
      CITYFLOW_REVOCATION_POLL_S: '2.5',
      CITYFLOW_CORS_ORIGINS: 'https://a.city, https://b.city,,',
      CITYFLOW_REROUTE_THRESHOLD: '0.7',
      PORT: '0',
      CITYFLOW_PG_POOL: '3',
    });
    expect(c).toMatchObject({
      openRegistration: true,
      trustProxy: true,
      cache: false,
      mqttPlaintext: true,
      revocationPollMs: 2500,
      corsOrigins: ['https://a.city', 'https://b.city'],
      rerouteThreshold: 0.7,
      rerouteClear: 0.6,
      port: 0,
      pgPool: 3,
    });
    // an out-of-range value in seconds is shown in seconds
    expect(failure(() => fromEnv({ CITYFLOW_REVOCATION_POLL_S: '7200' })).details).toEqual([
      'CITYFLOW_REVOCATION_POLL_S: expected 0.05..3600 seconds, got 7200 (too large)',
    ]);
  });

  it('the programmatic options go through the same schema', () => {
    expect(failure(() => resolveConfig({ port: 1.5, wsHeartbeatMs: 0 })).details).toEqual([
      'PORT: expected a port 0..65535, got 1.5 (not an integer)',
      'wsHeartbeatMs: expected a positive integer, got 0 (too small)',
    ]);
  });

  it('serve --help and hub/README.md list exactly the variables of the schema', () => {
    const help = environmentHelp();
    for (const n of envNames) expect(help).toMatch(new RegExp(`^  ${n} `, 'm'));
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(
      readme.indexOf('### Configuration'),
      readme.indexOf('\n\n', readme.indexOf('| variable')),
    );
    const documented = new Set(
      table
        .split('\n')
        .filter((l) => l.startsWith('| `'))
        .flatMap((l) => (l.split(' | ')[0] ?? '').match(/[A-Z][A-Z0-9_]+/g) ?? []),
    );
    expect([...documented].sort()).toEqual([...envNames].sort());
  });
});
