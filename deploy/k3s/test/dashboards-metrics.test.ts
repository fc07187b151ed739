import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunningHub } from '../../../hub/src/hub.js';
import { testHub } from '../../../hub/test/helpers.js';
import { metricFamilies } from '../../../hub/test/prom-text.js';
import { chartFile } from './chart.js';
import { metricNames } from './promql-names.js';

// Series Prometheus writes itself for every target: the only names allowed that the hub does not export.
const PROMETHEUS_OWN = new Set(['up']);

interface Query {
  where: string;
  expr: string;
}

function dashboardQueries(): Query[] {
  const dir = chartFile('dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const d = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as {
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      };
      return d.panels.flatMap((p) => p.targets.map((t) => ({ where: `${f}: ${p.title}`, expr: t.expr })));
    });
}

function ruleQueries(): Query[] {
  const rules = parse(readFileSync(chartFile('rules/cityflow-alerts.yaml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  return rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));
}

/** Every series name a family produces in the text format (histograms: _bucket, _sum, _count). */
function exportedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const [name, type] of metricFamilies(text)) {
    out.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) out.add(name + s);
  }
  return out;
}

describe('every metric the dashboards and alert rules query is one the hub exports', () => {
  let hub: RunningHub;
  let exported: Set<string>;
  beforeAll(async () => {
    hub = await testHub();
    const r = await fetch(`${hub.apiUrl}/metrics`);
    exported = exportedNames(await r.text());
  });
  afterAll(() => hub.stop());

  it('the real /metrics of a running hub lists the fleet and KPI families', () => {
    for (const n of [
      'cityflow_hub_agent_backlog',
      'cityflow_hub_ingest_lag_seconds_bucket',
      'cityflow_hub_database_up',
    ])
      expect(exported).toContain(n);
  });

  for (const [name, queries] of [
    ['dashboards', dashboardQueries()],
    ['alert rules', ruleQueries()],
  ] as const) {
    it(`${name}: ${queries.length} queries, each reading only exported metrics`, () => {
      expect(queries.length).toBeGreaterThan(10);
      const unknown: string[] = [];
      for (const q of queries) {
        const names = metricNames(q.expr);
        expect(names.length, `${q.where}: no metric in ${q.expr}`).toBeGreaterThan(0);
        for (const n of names)
          if (!exported.has(n) && !PROMETHEUS_OWN.has(n)) unknown.push(`${q.where}: ${n}`);
      }
      expect(unknown).toEqual([]);
    });
  }

  it('the dashboards cover the seed KPIs and the fleet', () => {
    const used = new Set(dashboardQueries().flatMap((q) => metricNames(q.expr)));
    for (const n of [
      'cityflow_hub_ingest_lag_seconds_bucket',
      'cityflow_hub_ingest_messages_total',
      'cityflow_hub_invalid_messages_total',
      'cityflow_hub_mean_predicted_congestion',
      'cityflow_hub_reroute_co2_gain_kg_per_hour',
      'cityflow_hub_agent_online',
      'cityflow_hub_agent_backlog',
      'cityflow_hub_agent_clock_skew_seconds',
    ])
      expect(used).toContain(n);
  });
});

describe('metricNames (the PromQL reader of the check above)', () => {
  it('keeps metrics, drops functions, labels, ranges, numbers, keywords and grouping lists', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, stream) (rate(cityflow_hub_ingest_lag_seconds_bucket{stream="live"}[5m]))) > 1e-9',
      ),
    ).toEqual(['cityflow_hub_ingest_lag_seconds_bucket']);
    expect(
      metricNames('time() - max by (agent_id) (a_seconds) > 300 and on (agent_id) b_total offset 5m'),
    ).toEqual(['a_seconds', 'b_total']);
    expect(metricNames('count(x > 0) or vector(0)')).toEqual(['x']);
    expect(metricNames('up{job="cityflow-hub"} == 0')).toEqual(['up']);
  });
});
