import type { PolicyRule } from './types.ts';

/**
 * Built-in ClusterRoles a binding may reference without the set defining them.
 * Derived from upstream bootstrap policy,
 * kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go (ClusterRoles()):
 * cluster-admin is `*` on everything; admin, edit and view are AGGREGATED roles
 * (aggregationRule selecting `rbac.authorization.k8s.io/aggregate-to-<role>: "true"`)
 * whose content comes from system:aggregate-to-{admin,edit,view}; view carries the
 * aggregate-to-edit label and edit the aggregate-to-admin label, so admin ⊃ edit ⊃ view.
 * Only the parts that matter for a least-privilege verdict are exact: edit/admin read AND
 * write secrets, view never touches secrets.
 */
export interface BuiltinClusterRole {
  name: string;
  labels: Record<string, string>;
  rules: PolicyRule[];
  /** Label keys (value "true") this role aggregates from, like upstream aggregationRule.matchLabels. */
  aggregatesLabels?: string[];
}

const Read = ['get', 'list', 'watch'];
const Write = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ReadWrite = [...Read, ...Write];

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups, resources, resourceNames: [], nonResourceURLs: [] };
}

const AGG = 'rbac.authorization.k8s.io/aggregate-to-';

export const BUILTIN_CLUSTER_ROLES: readonly BuiltinClusterRole[] = [
  {
    name: 'cluster-admin',
    labels: {},
    rules: [rule(['*'], ['*'], ['*']), { verbs: ['*'], apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: ['*'] }],
  },
  { name: 'admin', labels: {}, rules: [], aggregatesLabels: [`${AGG}admin`] },
  { name: 'edit', labels: { [`${AGG}admin`]: 'true' }, rules: [], aggregatesLabels: [`${AGG}edit`] },
  { name: 'view', labels: { [`${AGG}edit`]: 'true' }, rules: [], aggregatesLabels: [`${AGG}view`] },
  {
    name: 'system:aggregate-to-admin',
    labels: { [`${AGG}admin`]: 'true' },
    rules: [
      rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
      rule(ReadWrite, ['rbac.authorization.k8s.io'], ['rolebindings', 'roles']),
    ],
  },
  {
    name: 'system:aggregate-to-edit',
    labels: { [`${AGG}edit`]: 'true' },
    rules: [
      rule(Write, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
      rule(['create'], [''], ['pods/eviction']),
      rule(Write, [''], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets', 'events']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(Write, ['apps'], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
      rule(Write, ['autoscaling'], ['horizontalpodautoscalers']),
      rule(Write, ['batch'], ['jobs', 'cronjobs']),
      rule(Write, ['policy'], ['poddisruptionbudgets']),
      rule(Write, ['networking.k8s.io'], ['networkpolicies', 'ingresses']),
      rule(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], ['coordination.k8s.io'], ['leases']),
      // edit (and so admin) may READ secrets and open exec/attach/portforward streams.
      rule(Read, [''], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
      rule(['impersonate'], [''], ['serviceaccounts']),
    ],
  },
  {
    name: 'system:aggregate-to-view',
    labels: { [`${AGG}view`]: 'true' },
    rules: [
      rule(Read, [''], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
      rule(Read, [''], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
      rule(Read, [''], ['namespaces']),
      rule(Read, ['discovery.k8s.io'], ['endpointslices']),
      rule(Read, ['apps'], ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
      rule(Read, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      rule(Read, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      rule(Read, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(Read, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingresses/status']),
    ],
  },
];

export function builtinClusterRole(name: string): BuiltinClusterRole | undefined {
  return BUILTIN_CLUSTER_ROLES.find((r) => r.name === name);
}
