import type { K8sObject } from './chart.js';

/**
 * Validates a manifest against the Kubernetes API schemas of kubernetes-models (v4: the last line that
 * supports Node 20) and the CRD schemas of @kubernetes-models/argo-cd and /prometheus-operator. An
 * apiVersion/kind with no schema is an error: every object rendered must be checked by something.
 */
const MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'rbac.authorization.k8s.io/v1': 'kubernetes-models/rbac.authorization.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'argoproj.io/v1alpha1': '@kubernetes-models/argo-cd/argoproj.io/v1alpha1',
};

type ModelClass = new (data: unknown) => { validate(): void };

export async function validateManifest(o: K8sObject): Promise<string | null> {
  const mod = MODULES[o.apiVersion];
  if (!mod) return `${o.kind}/${o.metadata?.name}: no schema for apiVersion ${o.apiVersion}`;
  const Model = ((await import(mod)) as Record<string, ModelClass>)[o.kind];
  if (!Model) return `${o.kind}/${o.metadata?.name}: no schema for kind ${o.kind} in ${o.apiVersion}`;
  try {
    new Model(o).validate();
    return null;
  } catch (e) {
    return `${o.kind}/${o.metadata?.name}: ${(e as Error).message}`;
  }
}
