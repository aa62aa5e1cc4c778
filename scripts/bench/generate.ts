import { stringify } from 'yaml';
import { rng } from '../../harness/testing/rng.ts';
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from '../../harness/k8s/restricted.ts';

/**
 * A large synthetic cluster for the benchmark: `pods` Pods spread over
 * namespaces, `policies` NetworkPolicies with mixed selectors, `bindings`
 * RoleBindings. Deterministic (seeded) so figures are comparable run to run.
 */
export interface GenerateOptions {
  pods: number;
  policies: number;
  bindings: number;
  namespaces?: number;
  /** Replica groups (Deployments); default one per 10 pods, at least 500, so a larger cluster has more apps, not bigger ones. */
  apps?: number;
  seed?: number;
}


const SECURE_CONTAINER = { securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT };

/** Returns file name → YAML text, ready for setFromTexts() or writing to a directory. */
export function generateLargeSet(o: GenerateOptions): Record<string, string> {
  const r = rng(o.seed ?? 42);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const nsCount = o.namespaces ?? 50;
  const namespaces = Array.from({ length: nsCount }, (_, i) => (i < 10 ? `cde-${i}` : `app-${i}`));
  const inScope = namespaces.filter((n) => n.startsWith('cde-'));
  const apps = Array.from({ length: o.apps ?? Math.max(500, Math.ceil(o.pods / 10)) }, (_, i) => `svc-${i}`);
  const ports = [80, 443, 5432, 8080, 8443, 9443];
  const docs: Record<string, unknown[]> = { 'namespaces.yaml': [], 'pods.yaml': [], 'netpol.yaml': [], 'rbac.yaml': [], 'spec.yaml': [] };

  for (const ns of namespaces) {
    docs['namespaces.yaml']!.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: ns,
        labels: inScope.includes(ns)
          ? {
              'pci-scope': 'in-scope',
              'pod-security.kubernetes.io/enforce': 'restricted',
              'pod-security.kubernetes.io/enforce-version': 'v1.34',
            }
          : { team: pick(['a', 'b', 'c']) },
      },
    });
  }
  // Pods come in replica groups, as Deployments make them: an app fixes the
  // namespace, labels and port of all its replicas (10 per app by default).
  const appAttrs = apps.map((app, k) => ({ ns: namespaces[k % nsCount]!, tier: pick(['web', 'api', 'db']), port: pick(ports) }));
  for (let i = 0; i < o.pods; i++) {
    const k = i % apps.length;
    const app = apps[k]!;
    const { ns, tier, port } = appAttrs[k]!;
    docs['pods.yaml']!.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${app}-${Math.floor(i / apps.length)}`, namespace: ns, labels: { app, tier } },
      spec: {
        serviceAccountName: 'default',
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'main', image: 'localhost/app:v1', ports: [{ containerPort: port, name: 'svc' }], ...SECURE_CONTAINER }],
      },
    });
  }
  for (let i = 0; i < o.policies; i++) {
    const ns = namespaces[i % nsCount]!;
    const peer = () =>
      pick([
        { podSelector: { matchLabels: { app: pick(apps) } } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': pick(namespaces) } }, podSelector: { matchLabels: { tier: pick(['web', 'api']) } } },
        { namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] } },
        { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
      ]);
    docs['netpol.yaml']!.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `np-${i}`, namespace: ns },
      spec: {
        podSelector: i % 7 === 0 ? {} : { matchLabels: { app: pick(apps) } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [peer(), peer()], ports: [{ port: pick(ports), protocol: 'TCP' }] }],
        egress: [{ to: [peer()], ports: [{ port: pick([53, ...ports]) }, { port: 'svc' }] }],
      },
    });
  }
  for (let i = 0; i < o.bindings; i++) {
    const ns = pick(namespaces);
    docs['rbac.yaml']!.push(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: `role-${i}`, namespace: ns },
        rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [`cm-${i}`], verbs: ['get'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `rb-${i}`, namespace: ns },
        subjects: [i % 3 === 0 ? { kind: 'Group', name: `team-${i % 10}`, apiGroup: 'rbac.authorization.k8s.io' } : { kind: 'ServiceAccount', name: `sa-${i}`, namespace: ns }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: i % 5 === 0 ? 'ClusterRole' : 'Role', name: i % 5 === 0 ? 'view' : `role-${i}` },
      },
    );
  }
  docs['spec.yaml']!.push({
    apiVersion: 'pci-harness.dev/v1alpha1',
    kind: 'ScopeDeclaration',
    metadata: { name: 'scope' },
    spec: {
      scopeLabel: { 'pci-scope': 'in-scope' },
      namespaces: inScope,
      podSecurityVersion: 'v1.34',
      cdeNodes: { label: { 'pci-scope': 'in-scope' }, taint: { key: 'pci-scope', value: 'in-scope', effect: 'NoSchedule' } },
    },
  });
  docs['spec.yaml']!.push({
    apiVersion: 'pci-harness.dev/v1alpha1',
    kind: 'FlowTable',
    metadata: { name: 'flows' },
    spec: { flows: [] },
  });
  return Object.fromEntries(Object.entries(docs).map(([f, ds]) => [f, ds.map((d) => stringify(d)).join('---\n')]));
}
