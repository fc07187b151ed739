import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
// @ts-expect-error plain ESM script without types (also run directly by `npm run check:k3s`)
import { helmPath } from '../scripts/helm.mjs';

export const CHART = fileURLToPath(new URL('../cityflow', import.meta.url));
export const chartFile = (name: string) => `${CHART}/${name}`;
export const PRODUCTION = chartFile('values-production.yaml');
export const CITY = chartFile('cities/example-city.yaml');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked by schema, then read freely
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: idem
  data?: any;
}

/** Runs helm; throws with helm's stderr (schema errors are reported there). */
export function helm(args: string[]): string {
  try {
    return execFileSync(helmPath() as string, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HELM_CACHE_HOME: '/tmp/cityflow-helm-home/cache',
        HELM_CONFIG_HOME: '/tmp/cityflow-helm-home/config',
        HELM_DATA_HOME: '/tmp/cityflow-helm-home/data',
      },
    });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`helm ${args.join(' ')}: ${err.stderr || err.stdout || err.message}`);
  }
}

export interface RenderOptions {
  valueFiles?: string[];
  set?: Record<string, string | number | boolean>;
  release?: string;
  namespace?: string;
}

const helmArgs = (o: RenderOptions) => [
  ...(o.valueFiles ?? []).flatMap((f) => ['-f', f]),
  ...Object.entries(o.set ?? {}).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
];

export function render(o: RenderOptions = {}): K8sObject[] {
  const out = helm([
    'template',
    o.release ?? 'test',
    CHART,
    '--namespace',
    o.namespace ?? 'cityflow',
    ...helmArgs(o),
  ]);
  return parseManifests(out);
}

export function lint(o: RenderOptions = {}): string {
  return helm(['lint', '--strict', CHART, ...helmArgs(o)]);
}

export function parseManifests(text: string): K8sObject[] {
  const docs = parseAllDocuments(text);
  const out: K8sObject[] = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`invalid YAML rendered: ${d.errors[0]!.message}`);
    const v = d.toJS();
    if (v) out.push(v as K8sObject);
  }
  return out;
}

export function find(objs: K8sObject[], kind: string, nameSuffix: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name.endsWith(nameSuffix));
  if (!o)
    throw new Error(
      `no ${kind} *${nameSuffix} in ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
    );
  return o;
}
