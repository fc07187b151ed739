import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CITY, PRODUCTION, chartFile, find, type K8sObject, render } from './chart.js';

// biome-ignore lint/suspicious/noExplicitAny: manifests are read freely after schema validation
type Any = any;
const podSpec = (o: K8sObject): Any => o.spec.template.spec;
const containers = (o: K8sObject): Any[] => [...(podSpec(o).initContainers ?? []), ...podSpec(o).containers];
const workloads = (objs: K8sObject[]) => objs.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
const env = (c: Any) => Object.fromEntries((c.env ?? []).map((e: Any) => [e.name, e]));

describe('rendered hub Deployment', () => {
  const objs = render();
  const hub = find(objs, 'Deployment', '-hub');
  const main = podSpec(hub).containers.find((c: Any) => c.name === 'hub');

  it('probes: readiness on /health (dependencies), liveness and startup on /health/live', () => {
    expect(main.readinessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(main.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(main.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(main.ports).toEqual([{ name: 'http', containerPort: 8081, protocol: 'TCP' }]);
  });

  it('replicas: the autoscaler owns them (min 2); without it the Deployment says 2; a PDB keeps 1', () => {
    expect(hub.spec.replicas).toBeUndefined();
    const hpa = find(objs, 'HorizontalPodAutoscaler', '-hub');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: hub.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(6);
    const fixed = find(render({ set: { 'hub.autoscaling.enabled': false } }), 'Deployment', '-hub');
    expect(fixed.spec.replicas).toBe(2);
    const pdb = find(objs, 'PodDisruptionBudget', '-hub');
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(hub.spec.template.metadata.labels);
  });

  it('env: secrets from the Secret, URLs composed after the passwords they expand, services that exist', () => {
    const e = env(main);
    const names = main.env.map((x: Any) => x.name);
    expect(e.JWT_SECRET.valueFrom.secretKeyRef.key).toBe('jwt-secret');
    expect(e.CITYFLOW_METRICS_TOKEN.valueFrom.secretKeyRef.key).toBe('metrics-token');
    const services = new Map(
      objs
        .filter((o) => o.kind === 'Service')
        .map((s) => [s.metadata.name, s.spec.ports.map((p: Any) => p.port)]),
    );
    for (const [url, password, scheme] of [
      ['DATABASE_URL', 'POSTGRES_PASSWORD', 'postgres'],
      ['REDIS_URL', 'REDIS_PASSWORD', 'redis'],
      ['MQTT_URL', 'CITYFLOW_MQTT_HUB_PASSWORD', 'mqtt'],
    ] as const) {
      const m = new RegExp(`^${scheme}://[^:]*:\\$\\(${password}\\)@([^:/]+):(\\d+)`).exec(e[url].value);
      expect(m, `${url} = ${e[url].value}`).toBeTruthy();
      // Kubernetes expands $(VAR) only from variables defined earlier in the list.
      expect(names.indexOf(password)).toBeLessThan(names.indexOf(url));
      expect(services.get(m![1]!), `${url} points at Service ${m![1]}`).toContain(Number(m![2]));
    }
    expect(e.CITYFLOW_TRUST_PROXY.value).toBe('true');
    expect(e.CITYFLOW_OPEN_REGISTRATION.value).toBe('false');
    expect(e.PORT.value).toBe('8081');
    const noIngress = find(render({ set: { 'ingress.enabled': false } }), 'Deployment', '-hub');
    expect(env(podSpec(noIngress).containers[0]).CITYFLOW_TRUST_PROXY.value).toBe('false');
  });

  it('an external database comes from the Secret as database-url; the chart runs no TimescaleDB then', () => {
    const ext = render({
      set: { 'timescaledb.enabled': false, 'externalDatabase.url': 'postgres://u:p@db:5432/x' },
    });
    const c = podSpec(find(ext, 'Deployment', '-hub')).containers[0];
    expect(env(c).DATABASE_URL.valueFrom.secretKeyRef.key).toBe('database-url');
    expect(ext.some((o) => o.kind === 'StatefulSet')).toBe(false);
    const secret = find(ext, 'Secret', '-secrets');
    expect(Buffer.from(secret.data['database-url'], 'base64').toString()).toBe('postgres://u:p@db:5432/x');
  });

  it('the network file comes from a ConfigMap when given', () => {
    const objs2 = render({ valueFiles: [PRODUCTION, CITY], release: 'example-city' });
    const spec = podSpec(find(objs2, 'Deployment', '-hub'));
    expect(env(spec.containers[0]).NETWORK_FILE.value).toBe('/etc/cityflow/network.geojson');
    expect(spec.volumes.find((v: Any) => v.name === 'network').configMap.name).toBe('example-city-network');
  });
});

describe('security of every workload', () => {
  for (const [name, objs] of [
    ['default', render()],
    ['production', render({ valueFiles: [PRODUCTION] })],
  ] as const) {
    it(`${name}: non-root pods, read-only root filesystems, no privilege escalation, resources, pinned images`, () => {
      expect(workloads(objs).length).toBeGreaterThanOrEqual(5);
      for (const w of workloads(objs)) {
        const sc = podSpec(w).securityContext;
        expect(sc.runAsNonRoot, w.metadata.name).toBe(true);
        expect(sc.runAsUser, w.metadata.name).toBeGreaterThan(0);
        expect(sc.seccompProfile).toEqual({ type: 'RuntimeDefault' });
        for (const c of containers(w)) {
          const where = `${w.metadata.name}/${c.name}`;
          expect(c.securityContext, where).toEqual({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.resources?.limits?.memory, where).toBeTruthy();
          expect(c.image, where).toMatch(/^[^:@]+(:[^:]+|@sha256:[a-f0-9]{64})$/);
          expect(c.image, where).not.toMatch(/:latest$/);
        }
      }
    });
  }

  it('the hub writes nothing but /tmp, an emptyDir', () => {
    const spec = podSpec(find(render(), 'Deployment', '-hub'));
    for (const c of containers({ spec: { template: { spec } } } as K8sObject))
      expect(c.volumeMounts.map((m: Any) => m.mountPath)).toContain('/tmp');
    expect(spec.volumes.find((v: Any) => v.name === 'tmp').emptyDir).toBeTruthy();
  });

  it('every secret key a workload reads exists in the Secret the chart generates', () => {
    for (const objs of [
      render(),
      render({ set: { 'timescaledb.enabled': false, 'externalDatabase.url': 'postgres://u:p@db/x' } }),
    ]) {
      const secret = find(objs, 'Secret', '-secrets');
      const refs = JSON.stringify(objs).matchAll(/"secretKeyRef":\{"name":"([^"]+)","key":"([^"]+)"\}/g);
      const keys = [...refs].map((m) => {
        expect(m[1]).toBe(secret.metadata.name);
        return m[2]!;
      });
      expect(keys.length).toBeGreaterThan(5);
      for (const k of keys) expect(Object.keys(secret.data), k).toContain(k);
    }
  });

  it('with an existing Secret (production) the chart renders none and every reference names it', () => {
    const objs = render({ valueFiles: [PRODUCTION] });
    expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
    const names = new Set(
      [...JSON.stringify(objs).matchAll(/"secretKeyRef":\{"name":"([^"]+)"/g)].map((m) => m[1]),
    );
    expect([...names]).toEqual(['cityflow-secrets']);
  });
});

describe('TLS and the broker', () => {
  it('ingress: HTTPS for the API/console host (and Grafana), traefik, routed to the hub Service', () => {
    const objs = render({ valueFiles: [PRODUCTION] });
    const ing = find(objs, 'Ingress', '-cityflow');
    expect(ing.spec.ingressClassName).toBe('traefik');
    expect(ing.spec.tls).toEqual([
      { hosts: ['cityflow.example.org', 'grafana.cityflow.example.org'], secretName: 'cityflow-tls' },
    ]);
    expect(ing.spec.rules[0].http.paths[0].backend.service.name).toBe(
      find(objs, 'Service', '-hub').metadata.name,
    );
  });

  it('mosquitto: users and ACL from cityflow-hub mosquitto-config, TLS listener on 8883 from the cert Secret', () => {
    const objs = render();
    const dep = find(objs, 'Deployment', '-mosquitto');
    const spec = podSpec(dep);
    expect(spec.initContainers[0].command.join(' ')).toContain(
      'cityflow-hub.js mosquitto-config --out /mosquitto/auth',
    );
    const sync = spec.containers.find((c: Any) => c.name === 'auth-sync');
    expect(sync.command.join(' ')).toContain('mosquitto-config --out /mosquitto/auth/next');
    expect(env(sync).CITYFLOW_MQTT_HUB_PASSWORD.valueFrom.secretKeyRef.key).toBe('mqtt-hub-password');
    const conf: string = find(objs, 'ConfigMap', '-mosquitto').data['mosquitto.conf'];
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(conf).toMatch(/^password_file \/mosquitto\/auth\/passwd$/m);
    expect(conf).toMatch(/^acl_file \/mosquitto\/auth\/acl$/m);
    expect(conf).toMatch(
      /^listener 8883\ncertfile \/mosquitto\/certs\/tls.crt\nkeyfile \/mosquitto\/certs\/tls.key$/m,
    );
    expect(conf).not.toMatch(/require_certificate/);
    expect(spec.volumes.find((v: Any) => v.name === 'certs').secret.secretName).toBe('cityflow-mqtt-tls');
    const agents = find(objs, 'Service', '-mosquitto-agents');
    expect(agents.spec.type).toBe('LoadBalancer');
    expect(agents.spec.ports).toEqual([{ name: 'mqtts', port: 8883, targetPort: 8883, protocol: 'TCP' }]);
    // The in-cluster 1883 listener is for the hubs only: a ClusterIP Service.
    expect(find(objs, 'Service', '-mosquitto').spec.type).toBe('ClusterIP');
  });

  it('production requires the agents client certificates (ca.crt of the same Secret)', () => {
    const conf: string = find(render({ valueFiles: [PRODUCTION] }), 'ConfigMap', '-mosquitto').data[
      'mosquitto.conf'
    ];
    expect(conf).toMatch(/^cafile \/mosquitto\/certs\/ca.crt\nrequire_certificate true$/m);
  });

  it('timescaledb: the official image in a StatefulSet with a PVC, its password from the Secret', () => {
    const ss = find(render(), 'StatefulSet', '-timescaledb');
    expect(podSpec(ss).containers[0].image).toMatch(/^timescale\/timescaledb:\d+\.\d+\.\d+-pg1[5-7]$/);
    expect(env(podSpec(ss).containers[0]).POSTGRES_PASSWORD.valueFrom.secretKeyRef.key).toBe(
      'postgres-password',
    );
    expect(ss.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('20Gi');
  });
});

describe('network policies', () => {
  const objs = render();
  const labelsOf = (suffix: string) => find(objs, 'Deployment', suffix).spec.template.metadata.labels;

  it('the database accepts only the hubs and Mosquitto (its auth containers), Redis only the hubs', () => {
    const db = find(objs, 'NetworkPolicy', '-timescaledb');
    expect(db.spec.podSelector.matchLabels).toEqual(
      find(objs, 'StatefulSet', '-timescaledb').spec.template.metadata.labels,
    );
    expect(db.spec.ingress).toEqual([
      {
        from: [
          { podSelector: { matchLabels: labelsOf('-hub') } },
          { podSelector: { matchLabels: labelsOf('-mosquitto') } },
        ],
        ports: [{ port: 5432, protocol: 'TCP' }],
      },
    ]);
    const redis = find(objs, 'NetworkPolicy', '-redis');
    expect(redis.spec.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: labelsOf('-hub') } }],
        ports: [{ port: 6379, protocol: 'TCP' }],
      },
    ]);
  });

  it('Mosquitto: 1883 from the hubs only, 8883 from anywhere; the hub itself is not restricted', () => {
    const m = find(objs, 'NetworkPolicy', '-mosquitto');
    expect(m.spec.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: labelsOf('-hub') } }],
        ports: [{ port: 1883, protocol: 'TCP' }],
      },
      { ports: [{ port: 8883, protocol: 'TCP' }] },
    ]);
    const hubLabels = labelsOf('-hub');
    for (const p of objs.filter((o) => o.kind === 'NetworkPolicy'))
      expect(p.spec.podSelector.matchLabels['app.kubernetes.io/component']).not.toBe(
        hubLabels['app.kubernetes.io/component'],
      );
    expect(render({ set: { 'networkPolicy.enabled': false } }).some((o) => o.kind === 'NetworkPolicy')).toBe(
      false,
    );
  });
});

describe('observability wiring', () => {
  const rules = parse(readFileSync(chartFile('rules/cityflow-alerts.yaml'), 'utf8'));

  it('built-in Prometheus scrapes the hub Service endpoints with the metrics token, and loads the rule file', () => {
    const objs = render();
    const cm = find(objs, 'ConfigMap', '-prometheus');
    const prom = parse(cm.data['prometheus.yml']);
    const job = prom.scrape_configs.find((j: Any) => j.job_name === 'cityflow-hub');
    expect(job.relabel_configs[0]).toEqual({
      source_labels: ['__meta_kubernetes_service_name'],
      regex: find(objs, 'Service', '-hub').metadata.name,
      action: 'keep',
    });
    const spec = podSpec(find(objs, 'Deployment', '-prometheus'));
    const tokenMount = spec.containers[0].volumeMounts.find((m: Any) => m.name === 'metrics-token');
    expect(job.authorization.credentials_file).toBe(`${tokenMount.mountPath}/metrics-token`);
    expect(parse(cm.data['cityflow-alerts.yaml'])).toEqual(rules);
  });

  it('without it: a ServiceMonitor on the hub Service port and a PrometheusRule with the same rules', () => {
    const objs = render({ valueFiles: [PRODUCTION] });
    expect(objs.some((o) => o.metadata.name.endsWith('-prometheus'))).toBe(false);
    const sm = find(objs, 'ServiceMonitor', '-hub');
    const svc = find(objs, 'Service', '-hub');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels))
      expect(svc.metadata.labels![k]).toBe(v);
    expect(svc.spec.ports.map((p: Any) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(sm.spec.endpoints[0].authorization.credentials.key).toBe('metrics-token');
    expect(sm.metadata.labels!.release).toBe('kube-prometheus-stack');
    expect(find(objs, 'PrometheusRule', '-cityflow').spec).toEqual(rules);
  });

  it('no ServiceMonitor unless asked, and never beside the built-in Prometheus', () => {
    expect(render().some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    expect(render({ set: { 'serviceMonitor.enabled': true } }).some((o) => o.kind === 'ServiceMonitor')).toBe(
      false,
    );
  });

  it('grafana: the repo dashboards provisioned, every panel on the provisioned datasource uid', () => {
    const objs = render();
    const dash = find(objs, 'ConfigMap', '-grafana-dashboards');
    const files = readdirSync(chartFile('dashboards')).filter((f) => f.endsWith('.json'));
    expect(Object.keys(dash.data).sort()).toEqual(files.sort());
    for (const f of files)
      expect(JSON.parse(dash.data[f])).toEqual(
        JSON.parse(readFileSync(chartFile(`dashboards/${f}`), 'utf8')),
      );
    const ds = parse(find(objs, 'ConfigMap', '-grafana-provisioning').data['datasources.yaml'])
      .datasources[0];
    expect(ds.url).toBe(`http://${find(objs, 'Service', '-prometheus').metadata.name}:9090`);
    for (const f of files)
      for (const p of JSON.parse(dash.data[f]).panels)
        expect(p.datasource.uid, `${f}: ${p.title}`).toBe(ds.uid);
  });
});

describe('values.schema.json refuses wrong values at helm template/install', () => {
  const refused = (set: Record<string, string | number | boolean>) => {
    try {
      render({ set });
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(set)}`);
  };
  it('one hub replica, an unknown key, a latest tag, a missing external URL, a bad service type', () => {
    expect(refused({ 'hub.replicas': 1 })).toMatch(/hub.replicas: Must be greater than or equal to 2/);
    expect(refused({ 'hub.replicaz': 3 })).toMatch(/Additional property replicaz is not allowed/);
    expect(refused({ 'redis.image.tag': 'latest' })).toMatch(/redis.image.tag: Must not validate the schema/);
    expect(refused({ 'timescaledb.enabled': false })).toMatch(
      /externalDatabase.url: String length must be greater/,
    );
    expect(refused({ 'mosquitto.service.type': 'ExternalName' })).toMatch(/mosquitto.service.type/);
    expect(refused({ 'ingress.host': 'Not A Host' })).toMatch(/ingress.host/);
  });
});
