import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CITY, PRODUCTION, type RenderOptions, lint, parseManifests, render } from './chart.js';
import { validateManifest } from './k8s-schemas.js';

// What `helm install` would send to the API server, for the profiles a city can run: each object is
// validated against the Kubernetes (and CRD) schemas, offline.
const SCENARIOS: Record<string, RenderOptions> = {
  default: {},
  production: { valueFiles: [PRODUCTION] },
  'production + example city (the ArgoCD application)': {
    valueFiles: [PRODUCTION, CITY],
    release: 'example-city',
    namespace: 'cityflow-example-city',
  },
  'external PostgreSQL, no Redis, plain MQTT, kube-prometheus-stack': {
    set: {
      'timescaledb.enabled': false,
      'externalDatabase.url': 'postgres://cityflow:pw@db.example.org:5432/cityflow',
      'redis.enabled': false,
      'mosquitto.tls.enabled': false,
      'prometheus.enabled': false,
      'serviceMonitor.enabled': true,
      'grafana.prometheusUrl': 'http://prometheus.monitoring:9090',
    },
  },
  'minimal: no ingress, no autoscaler, no observability': {
    set: {
      'ingress.enabled': false,
      'hub.autoscaling.enabled': false,
      'prometheus.enabled': false,
      'grafana.enabled': false,
    },
  },
};

const ARGOCD = ['project.yaml', 'example-city.yaml'].map((f) =>
  fileURLToPath(new URL(`../argocd/${f}`, import.meta.url)),
);

const PROJECT = parseManifests(readFileSync(ARGOCD[0]!, 'utf8'))[0]!;

describe('the chart renders valid Kubernetes objects', () => {
  for (const [name, opts] of Object.entries(SCENARIOS)) {
    it(`${name}: helm lint --strict passes and every object matches its API schema`, async () => {
      expect(lint(opts)).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      const objs = render(opts);
      expect(objs.length).toBeGreaterThan(10);
      const errors = (await Promise.all(objs.map(validateManifest))).filter(Boolean);
      expect(errors).toEqual([]);
      const ids = objs.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(new Set(ids).size).toBe(ids.length);
      for (const o of objs)
        expect(o.metadata.labels?.['app.kubernetes.io/instance'], ids.join()).toBeTruthy();
      // ArgoCD would refuse to sync a kind its AppProject does not allow.
      const allowed = PROJECT.spec.namespaceResourceWhitelist.map(
        (k: { group: string; kind: string }) => `${k.group}/${k.kind}`,
      );
      for (const o of objs) {
        const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
        expect(allowed).toContain(`${group}/${o.kind}`);
      }
    });
  }

  it('the ArgoCD AppProject and Application match the argoproj.io schemas', async () => {
    const objs = ARGOCD.flatMap((f) => parseManifests(readFileSync(f, 'utf8')));
    expect(objs.map((o) => o.kind)).toEqual(['AppProject', 'Application']);
    expect((await Promise.all(objs.map(validateManifest))).filter(Boolean)).toEqual([]);
  });

  it('the validator refuses a wrong object (it is not a no-op)', async () => {
    const [svc] = render().filter((o) => o.kind === 'Service');
    expect(await validateManifest(svc!)).toBeNull();
    svc!.spec.ports[0].port = 'eighty';
    expect(await validateManifest(svc!)).toMatch(/port must be integer/);
    expect(await validateManifest({ ...svc!, apiVersion: 'example.org/v1' })).toMatch(/no schema/);
  });
});
