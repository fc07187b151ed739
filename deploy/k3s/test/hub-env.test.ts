import { describe, expect, it } from 'vitest';
import { optionsFromEnv, resolveConfig } from '../../../hub/src/config.js';
import { CITY, PRODUCTION, find, type K8sObject, type RenderOptions, render } from './chart.js';

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests
type Any = any;

// Set for the URLs' $(VAR) expansion, or read by another verb than `serve`: not hub settings themselves.
const HELPERS = new Set(['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'CITYFLOW_MQTT_HUB_PASSWORD']);

/** The hub container's environment as the kubelet builds it: Secret values resolved, $(VAR) expanded. */
function podEnv(objs: K8sObject[], secretValues: Record<string, string>): Record<string, string> {
  const hub = find(objs, 'Deployment', '-hub');
  const c = hub.spec.template.spec.containers.find((x: Any) => x.name === 'hub');
  const out: Record<string, string> = {};
  for (const e of c.env as Any[]) {
    const raw: string = e.valueFrom ? secretValues[e.valueFrom.secretKeyRef.key]! : e.value;
    expect(raw, e.name).toBeDefined();
    // Kubernetes expands $(NAME) from variables defined earlier; an unknown one stays as written.
    out[e.name] = raw.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n) => out[n] ?? m);
  }
  return out;
}

/** Every variable name optionsFromEnv reads, recorded through a Proxy (no list copied from the hub). */
function hubEnvNames(): Set<string> {
  const seen = new Set<string>();
  optionsFromEnv(
    new Proxy({} as NodeJS.ProcessEnv, {
      get(_t, k) {
        if (typeof k === 'string') seen.add(k);
        return undefined;
      },
    }),
  );
  return seen;
}

const SECRET = {
  'jwt-secret': 'jwtjwtjwtjwtjwtjwtjwt0123456789',
  'metrics-token': 'token0123456789',
  'postgres-password': 'pgpass0123',
  'redis-password': 'redispass0123',
  'mqtt-hub-password': 'mqttpass0123',
  'database-url': 'postgres://u:p@db.example.org:5432/x',
};

describe('the environment the chart gives the hub is a valid hub configuration', () => {
  const known = hubEnvNames();
  const profiles: Record<string, RenderOptions> = {
    default: {},
    'production + city': { valueFiles: [PRODUCTION, CITY], release: 'example-city' },
    'external database': {
      set: { 'timescaledb.enabled': false, 'externalDatabase.url': 'postgres://u:p@db/x' },
    },
  };
  for (const [name, opts] of Object.entries(profiles)) {
    it(`${name}: every variable is one the hub reads, and resolveConfig accepts them all`, () => {
      const objs = render(opts);
      const env = podEnv(objs, SECRET);
      for (const k of Object.keys(env))
        if (!HELPERS.has(k)) expect(known, `${k} is not read by the hub`).toContain(k);
      const cfg = resolveConfig({
        ...optionsFromEnv(env),
        networkFile: env.NETWORK_FILE ?? '/unused/network.geojson',
      });
      expect(cfg.databaseUrl).toMatch(/^postgres:\/\//);
      expect(cfg.databaseUrl).not.toContain('$(');
      expect(cfg.jwtSecret).toBe(SECRET['jwt-secret']);
      expect(cfg.jwtSecretGenerated).toBe(false);
      expect(cfg.metricsToken).toBe(SECRET['metrics-token']);
      expect(cfg.port).toBe(8081);
      expect(cfg.trustProxy).toBe(true);
      expect(cfg.openRegistration).toBe(false);
      expect(cfg.mqttUrl).toBe(
        `mqtt://cityflow-hub:${SECRET['mqtt-hub-password']}@${find(objs, 'Service', '-mosquitto').metadata.name}:1883`,
      );
      if (opts.set?.['timescaledb.enabled'] === false) expect(cfg.databaseUrl).toBe(SECRET['database-url']);
      else
        expect(cfg.databaseUrl).toBe(
          `postgres://cityflow:${SECRET['postgres-password']}@${find(objs, 'Service', '-timescaledb').metadata.name}:5432/cityflow`,
        );
      expect(cfg.redisUrl).toBe(
        `redis://:${SECRET['redis-password']}@${find(objs, 'Service', '-redis').metadata.name}:6379`,
      );
    });
  }

  it('the Proxy trick sees the hub variables (so the check above is not vacuous)', () => {
    for (const n of ['DATABASE_URL', 'JWT_SECRET', 'CITYFLOW_METRICS_MAX_AGENTS', 'CITYFLOW_TRUST_PROXY'])
      expect(hubEnvNames()).toContain(n);
  });
});
