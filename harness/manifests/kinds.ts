import { SPEC_API_VERSION, SPEC_KINDS } from '../spec/types.ts';

/**
 * Every apiVersion/kind the harness understands. Anything else in a manifest
 * directory is bad input (exit 2): a typo in `kind:` must not silently drop a
 * control out of the analysis.
 */
const known: Record<string, readonly string[]> = {
  v1: ['Namespace', 'ServiceAccount', 'ConfigMap', 'Secret', 'Service', 'Pod', 'PersistentVolumeClaim', 'LimitRange', 'ResourceQuota'],
  'apps/v1': ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  'batch/v1': ['Job', 'CronJob'],
  'networking.k8s.io/v1': ['NetworkPolicy', 'Ingress', 'IngressClass'],
  'rbac.authorization.k8s.io/v1': ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'],
  'policy/v1': ['PodDisruptionBudget'],
  'kyverno.io/v1': ['ClusterPolicy', 'Policy'],
  'apiserver.config.k8s.io/v1': ['EncryptionConfiguration'],
  'audit.k8s.io/v1': ['Policy'],
  'kind.x-k8s.io/v1alpha4': ['Cluster'],
  [SPEC_API_VERSION]: SPEC_KINDS,
};

export function isKnownKind(apiVersion: string, kind: string): boolean {
  return known[apiVersion]?.includes(kind) ?? false;
}

/** Kinds that are configuration files for a component, not API objects: no namespace, no uniqueness by name across kinds. */
export const FILE_CONFIG_API_VERSIONS = new Set([
  'apiserver.config.k8s.io/v1',
  'audit.k8s.io/v1',
  'kind.x-k8s.io/v1alpha4',
  SPEC_API_VERSION,
]);

export const CLUSTER_SCOPED_KINDS = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ClusterPolicy', 'IngressClass']);

/** Namespaces every cluster has, which the set may use without creating. */
export const BUILTIN_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
