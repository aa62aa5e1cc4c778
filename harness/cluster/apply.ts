import { basename } from 'node:path';
import { stringify } from 'yaml';
import { objectId, type K8sObject } from '../manifests/types.ts';
import type { Cluster } from './provider.ts';
import { retryWhileUnavailable, type RetryOptions } from './readiness.ts';

/**
 * Apply order for the PCI set: what a later phase needs must exist first.
 * Policies go before workloads so admission judges every workload; network
 * policies go before workloads so no pod runs a moment unprotected.
 */
export const APPLY_PHASES = ['namespaces', 'rbac', 'policies', 'network-policies', 'workloads'] as const;
type ApplyPhase = (typeof APPLY_PHASES)[number];

const PHASE_OF_KIND: Record<string, ApplyPhase> = {
  Namespace: 'namespaces',
  ResourceQuota: 'namespaces',
  LimitRange: 'namespaces',
  PriorityClass: 'namespaces',
  CustomResourceDefinition: 'namespaces',
  ServiceAccount: 'rbac',
  Role: 'rbac',
  ClusterRole: 'rbac',
  RoleBinding: 'rbac',
  ClusterRoleBinding: 'rbac',
  ClusterPolicy: 'policies',
  Policy: 'policies',
  PolicyException: 'policies',
  ValidatingAdmissionPolicy: 'policies',
  ValidatingAdmissionPolicyBinding: 'policies',
  NetworkPolicy: 'network-policies',
  GlobalNetworkPolicy: 'network-policies',
};

export function phaseOf(o: K8sObject): ApplyPhase {
  // kyverno.io Policy vs audit.k8s.io Policy: only the Kyverno one is applied to a cluster.
  return PHASE_OF_KIND[o.kind] ?? 'workloads';
}

export interface PhasePlan {
  phase: ApplyPhase;
  objects: K8sObject[];
}

/** Group objects by phase, phases in order, empty phases dropped; order within a phase is the set's order. */
export function planApply(objects: K8sObject[]): PhasePlan[] {
  return APPLY_PHASES.map((phase) => ({ phase, objects: objects.filter((o) => phaseOf(o) === phase) })).filter((p) => p.objects.length > 0);
}

const ROLLOUT_KINDS = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);

/** `deployment/name` references of the workloads in a plan, by namespace. */
export function rolloutsOf(objects: K8sObject[]): Array<{ namespace: string; ref: string; id: string }> {
  return objects
    .filter((o) => ROLLOUT_KINDS.has(o.kind))
    .map((o) => ({ namespace: o.metadata.namespace ?? 'default', ref: `${o.kind.toLowerCase()}/${o.metadata.name}`, id: objectId(o) }));
}

export function toYamlStream(objects: K8sObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

const APPLY = ['apply', '--server-side', '--force-conflicts', '--field-manager=pci-harness'];

/**
 * Server-side apply (one field manager): idempotent, and no last-applied
 * annotation size limit (Kyverno's CRDs exceed the client-side limit).
 * Idempotent, so a whole stream is re-applied while the API or a webhook is
 * not serving yet (harness/cluster/readiness.ts decides what is retryable);
 * a rejection (a Kyverno denial, an invalid object) is thrown at once.
 */
export async function applyObjects(cluster: Cluster, objects: K8sObject[], opts: RetryOptions = {}): Promise<void> {
  if (objects.length === 0) return;
  const input = toYamlStream(objects);
  await retryWhileUnavailable(`apply ${objects.length} object(s)`, () => cluster.kubectl([...APPLY, '-f', '-'], { input }), opts);
}

/** Apply a file or URL as is (addon manifests), with the same retry rule. */
export async function applyFile(cluster: Cluster, fileOrUrl: string, opts: RetryOptions = {}): Promise<void> {
  await retryWhileUnavailable(`apply ${basename(fileOrUrl)}`, () => cluster.kubectl([...APPLY, '-f', fileOrUrl]), opts);
}
