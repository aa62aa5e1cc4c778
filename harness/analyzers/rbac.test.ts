import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../check/types.ts';
import { setFromTexts } from '../manifests/load.ts';
import { effectivePermissions, rbacAnalyzer } from './rbac.ts';

// A compliant miniature of the PCI set: two CDE namespaces, one workload each, own SAs,
// payment-api may read exactly its config map, card-processor has no API permissions.
const namespaces = `
apiVersion: v1
kind: Namespace
metadata: { name: cde-frontend, labels: { pci-scope: in-scope } }
---
apiVersion: v1
kind: Namespace
metadata: { name: cde-processing, labels: { pci-scope: in-scope } }
---
apiVersion: v1
kind: Namespace
metadata: { name: ingress }
`;
const serviceAccounts = `
apiVersion: v1
kind: ServiceAccount
metadata: { name: payment-api, namespace: cde-frontend }
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: card-processor, namespace: cde-processing }
automountServiceAccountToken: false
`;
const rbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: payment-api-role, namespace: cde-frontend }
rules:
  - apiGroups: [""]
    resources: ["configmaps"]
    resourceNames: ["payment-api-config"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: payment-api-rolebinding, namespace: cde-frontend }
subjects:
  - kind: ServiceAccount
    name: payment-api
    namespace: cde-frontend
roleRef: { kind: Role, name: payment-api-role, apiGroup: rbac.authorization.k8s.io }
`;
const workloads = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: payment-api, namespace: cde-frontend }
spec:
  selector: { matchLabels: { app: payment-api } }
  template:
    metadata: { labels: { app: payment-api } }
    spec:
      serviceAccountName: payment-api
      containers: [{ name: app, image: payment-api:1 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: card-processor, namespace: cde-processing }
spec:
  selector: { matchLabels: { app: card-processor } }
  template:
    metadata: { labels: { app: card-processor } }
    spec:
      serviceAccountName: card-processor
      containers: [{ name: app, image: card-processor:1 }]
`;
const table = `
apiVersion: pci-harness.dev/v1alpha1
kind: AccessTable
metadata: { name: access }
spec:
  subjects:
    - subject: { kind: ServiceAccount, name: payment-api, namespace: cde-frontend }
      allow:
        - { namespace: cde-frontend, apiGroup: "", resource: configmaps, resourceNames: [payment-api-config], verbs: [get] }
    - subject: { kind: ServiceAccount, name: card-processor, namespace: cde-processing }
      allow: []
`;
const scope = `
apiVersion: pci-harness.dev/v1alpha1
kind: ScopeDeclaration
metadata: { name: scope }
spec:
  scopeLabel: { pci-scope: in-scope }
  namespaces: [cde-frontend, cde-processing]
  podSecurityVersion: v1.34
  cdeNodes: { label: { pci-scope: in-scope }, taint: { key: pci-scope, value: in-scope, effect: NoSchedule } }
`;

function base(extra: Record<string, string> = {}, override: Record<string, string> = {}) {
  return setFromTexts({
    'cluster/namespaces.yaml': namespaces,
    'cluster/serviceaccounts.yaml': serviceAccounts,
    'cluster/rbac.yaml': rbac,
    'cluster/workloads.yaml': workloads,
    'spec/access-table.yaml': table,
    'spec/scope.yaml': scope,
    ...override,
    ...extra,
  });
}

async function run(set: ReturnType<typeof base>): Promise<CheckResult[]> {
  return rbacAnalyzer.run(set, {});
}
const fails = (rs: CheckResult[], check: string) => rs.filter((r) => r.check === check && r.status === 'fail');
const passes = (rs: CheckResult[], check: string) => rs.filter((r) => r.check === check && r.status === 'pass');

describe('rbacAnalyzer on a compliant set', () => {
  it('passes every check and fails none', async () => {
    const rs = await run(base());
    expect(rs.filter((r) => r.status === 'fail')).toEqual([]);
    for (const c of ['rbac.least-privilege', 'rbac.no-wildcards', 'rbac.no-secrets', 'rbac.no-cluster-admin', 'rbac.token-automount']) {
      expect(passes(rs, c).length, c).toBeGreaterThan(0);
    }
    expect(passes(rs, 'rbac.least-privilege').map((r) => r.object).sort()).toEqual([
      'ServiceAccount/cde-frontend/payment-api',
      'ServiceAccount/cde-processing/card-processor',
    ]);
  });
});

describe('effectivePermissions', () => {
  it('resolves RoleBinding → ClusterRole in the binding namespace only, and groups to the SAs they cover', () => {
    const set = base({
      'cluster/extra.yaml': `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: pod-reader }
rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ns-pods, namespace: cde-processing }
subjects: [{ kind: Group, name: "system:serviceaccounts:cde-processing", apiGroup: rbac.authorization.k8s.io }]
roleRef: { kind: ClusterRole, name: pod-reader, apiGroup: rbac.authorization.k8s.io }
`,
    });
    const eff = effectivePermissions(set);
    const cp = eff.subjects.find((s) => s.subject.name === 'card-processor');
    expect(cp?.grants.map((g) => [g.scope, g.rule.resources[0]])).toEqual([['cde-processing', 'pods']]);
    const pa = eff.subjects.find((s) => s.subject.name === 'payment-api');
    expect(pa?.grants.some((g) => g.rule.resources.includes('pods'))).toBe(false);
    expect(eff.subjects.some((s) => s.subject.kind === 'Group' && s.subject.name === 'system:serviceaccounts:cde-processing')).toBe(true);
  });

  it('resolves aggregated ClusterRoles and built-in edit including secrets', () => {
    const set = base({
      'cluster/agg.yaml': `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: agg }
aggregationRule:
  clusterRoleSelectors: [{ matchLabels: { team: pay } }]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: piece, labels: { team: pay } }
rules: [{ apiGroups: [""], resources: ["services"], verbs: ["list"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: agg-to-alice }
subjects: [{ kind: User, name: alice, apiGroup: rbac.authorization.k8s.io }]
roleRef: { kind: ClusterRole, name: agg, apiGroup: rbac.authorization.k8s.io }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: bob-edit, namespace: ingress }
subjects: [{ kind: User, name: bob, apiGroup: rbac.authorization.k8s.io }]
roleRef: { kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io }
`,
    });
    const eff = effectivePermissions(set);
    const alice = eff.subjects.find((s) => s.subject.name === 'alice');
    expect(alice?.grants.map((g) => g.rule.resources)).toEqual([['services']]);
    expect(alice?.grants[0]?.role.aggregatedFrom).toBe('piece');
    const bob = eff.subjects.find((s) => s.subject.name === 'bob');
    expect(bob?.grants.some((g) => g.rule.resources.includes('secrets') && g.rule.verbs.includes('get'))).toBe(true);
    // view is aggregated into edit: read pods/log comes from system:aggregate-to-view
    expect(bob?.grants.some((g) => g.rule.resources.includes('pods/log'))).toBe(true);
    expect(bob?.grants.every((g) => g.scope === 'ingress')).toBe(true);
  });

  // Speed is measured by scripts/bench.ts, not asserted here (timed tests flake on shared CI cores).
  it('resolves 200 bindings to their subjects', () => {
    const docs: string[] = [];
    for (let i = 0; i < 200; i++) {
      docs.push(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: b${i}, namespace: cde-frontend }
subjects: [{ kind: User, name: u${i % 20}, apiGroup: rbac.authorization.k8s.io }, { kind: Group, name: "system:serviceaccounts", apiGroup: rbac.authorization.k8s.io }]
roleRef: { kind: ClusterRole, name: ${i % 2 ? 'view' : 'edit'}, apiGroup: rbac.authorization.k8s.io }`);
    }
    const set = base({ 'cluster/many.yaml': docs.join('\n---\n') });
    const eff = effectivePermissions(set);
    expect(eff.subjects.find((s) => s.subject.name === 'u3')?.grants.length).toBeGreaterThan(0);
  });
});

describe('rbacAnalyzer catches each weakening', () => {
  it('extra permission: a wildcard secrets Role bound to a CDE SA fails least-privilege, no-wildcards and no-secrets with file:line', async () => {
    const rs = await run(
      base({
        'cluster/bad.yaml': `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: secrets-all, namespace: cde-processing }
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: cp-secrets, namespace: cde-processing }
subjects: [{ kind: ServiceAccount, name: card-processor, namespace: cde-processing }]
roleRef: { kind: Role, name: secrets-all, apiGroup: rbac.authorization.k8s.io }
`,
      }),
    );
    const lp = fails(rs, 'rbac.least-privilege');
    expect(lp).toHaveLength(1);
    expect(lp[0]).toMatchObject({ requirement: '7.2.2', file: 'cluster/bad.yaml', line: 6, object: 'Role/cde-processing/secrets-all' });
    expect(lp[0]?.message).toContain('RoleBinding cde-processing/cp-secrets');
    expect(fails(rs, 'rbac.no-wildcards')[0]).toMatchObject({ requirement: '7.2.2', line: 6 });
    const sec = fails(rs, 'rbac.no-secrets');
    expect(sec).toHaveLength(1);
    expect(sec[0]?.message).toContain('get/list/watch secrets in cde-processing');
  });

  it('built-in edit via RoleBinding in a CDE namespace fails no-secrets (secrets via built-in role)', async () => {
    const rs = await run(
      base({
        'cluster/bad.yaml': `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: dev-edit, namespace: cde-frontend }
subjects: [{ kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io }]
roleRef: { kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io }
`,
      }),
    );
    const sec = fails(rs, 'rbac.no-secrets');
    expect(sec[0]).toMatchObject({ requirement: '7.2.2', file: 'cluster/bad.yaml', object: 'RoleBinding/cde-frontend/dev-edit' });
    expect(sec[0]?.message).toContain('Group developers');
    // the group is not in the AccessTable
    expect(fails(rs, 'rbac.least-privilege').some((r) => r.message.includes('Group developers is in the set but not in the AccessTable'))).toBe(true);
  });

  it('cluster-admin ClusterRoleBinding to a CDE ServiceAccount fails no-cluster-admin (7.2.1)', async () => {
    const rs = await run(
      base({
        'cluster/bad.yaml': `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: cp-admin }
subjects: [{ kind: ServiceAccount, name: card-processor, namespace: cde-processing }]
roleRef: { kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io }
`,
      }),
    );
    const ca = fails(rs, 'rbac.no-cluster-admin');
    expect(ca).toHaveLength(1);
    expect(ca[0]).toMatchObject({ requirement: '7.2.1', file: 'cluster/bad.yaml', line: 6, object: 'ClusterRoleBinding/cp-admin' });
    expect(ca[0]?.message).toContain('to CDE ServiceAccount cde-processing/card-processor');
    expect(fails(rs, 'rbac.no-secrets').length).toBe(1);
    expect(fails(rs, 'rbac.no-wildcards').length).toBeGreaterThan(0);
  });

  it('RoleBinding with roleRef to a missing Role fails least-privilege', async () => {
    const rs = await run(
      base({
        'cluster/bad.yaml': `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: dangling, namespace: cde-processing }
subjects: [{ kind: ServiceAccount, name: card-processor, namespace: cde-processing }]
roleRef: { kind: Role, name: does-not-exist, apiGroup: rbac.authorization.k8s.io }
`,
      }),
    );
    const f = fails(rs, 'rbac.least-privilege');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ requirement: '7.2.2', file: 'cluster/bad.yaml', line: 6 });
    expect(f[0]?.message).toContain('Role "does-not-exist"');
  });

  it('ServiceAccount subject without namespace is flagged', async () => {
    const rs = await run(
      base({}, {
        'cluster/rbac.yaml': rbac.replace('    namespace: cde-frontend\nroleRef', 'roleRef'),
      }),
    );
    expect(fails(rs, 'rbac.least-privilege').some((r) => r.message.includes('has no namespace'))).toBe(true);
  });

  it('missing declared permission fails (positive control, defect 18)', async () => {
    const rs = await run(base({}, { 'cluster/rbac.yaml': rbac.replace('["payment-api-config"]', '["other-config"]') }));
    const f = fails(rs, 'rbac.least-privilege');
    expect(f.some((r) => r.message.includes('nothing in the set grants: get configmaps/payment-api-config in namespace cde-frontend') && r.file === 'spec/access-table.yaml')).toBe(true);
    expect(f.some((r) => r.message.includes('get configmaps/other-config'))).toBe(true);
  });

  it('declared ServiceAccount that does not exist fails (can-i would say no trivially)', async () => {
    const rs = await run(
      base({}, {
        'spec/access-table.yaml': `${table}    - subject: { kind: ServiceAccount, name: ghost, namespace: cde-processing }
      allow: []
`,
      }),
    );
    expect(fails(rs, 'rbac.least-privilege').some((r) => r.message.includes('ServiceAccount cde-processing/ghost') && r.message.includes('neither defines nor binds'))).toBe(true);
  });

  it('subject in the set but not in the table fails', async () => {
    const rs = await run(
      base({
        'cluster/extra-sa.yaml': `
apiVersion: v1
kind: ServiceAccount
metadata: { name: stray, namespace: cde-processing }
automountServiceAccountToken: false
`,
      }),
    );
    expect(fails(rs, 'rbac.least-privilege')[0]).toMatchObject({ object: 'ServiceAccount/cde-processing/stray', file: 'cluster/extra-sa.yaml' });
  });

  it('missing AccessTable fails', async () => {
    const set = setFromTexts({ 'cluster/namespaces.yaml': namespaces, 'cluster/serviceaccounts.yaml': serviceAccounts });
    expect(fails(await run(set), 'rbac.least-privilege')[0]?.message).toContain('no AccessTable');
  });

  it('automount: SA with automount true, unset, and a pod template setting true fail 7.2.5', async () => {
    const rs = await run(
      base({}, {
        'cluster/serviceaccounts.yaml': serviceAccounts.replace('automountServiceAccountToken: false', 'automountServiceAccountToken: true').replace(/automountServiceAccountToken: false\n$/, ''),
        'cluster/workloads.yaml': workloads.replace('serviceAccountName: payment-api', 'serviceAccountName: payment-api\n      automountServiceAccountToken: true'),
      }),
    );
    const f = fails(rs, 'rbac.token-automount').filter((r) => r.requirement === '7.2.5');
    expect(f.map((r) => r.object).sort()).toEqual([
      'Deployment/cde-frontend/payment-api',
      'ServiceAccount/cde-frontend/payment-api',
      'ServiceAccount/cde-processing/card-processor',
    ]);
    expect(f.find((r) => r.object === 'ServiceAccount/cde-processing/card-processor')?.message).toContain('unset');
  });

  it('shared ServiceAccount and default ServiceAccount fail 8.2.2', async () => {
    const shared = workloads.replace('serviceAccountName: card-processor', 'serviceAccountName: card-processor') + `---
apiVersion: apps/v1
kind: Deployment
metadata: { name: batch, namespace: cde-processing }
spec:
  selector: { matchLabels: { app: batch } }
  template:
    metadata: { labels: { app: batch } }
    spec:
      serviceAccountName: card-processor
      containers: [{ name: app, image: batch:1 }]
---
apiVersion: v1
kind: Pod
metadata: { name: debug, namespace: cde-frontend }
spec:
  containers: [{ name: app, image: debug:1 }]
`;
    const rs = await run(base({}, { 'cluster/workloads.yaml': shared }));
    const f = fails(rs, 'rbac.token-automount').filter((r) => r.requirement === '8.2.2');
    expect(f.map((r) => r.object).sort()).toEqual(['Deployment/cde-processing/batch', 'Deployment/cde-processing/card-processor', 'Pod/cde-frontend/debug']);
    expect(f.find((r) => r.object === 'Pod/cde-frontend/debug')?.message).toContain('"default"');
  });

  it('a wildcard role bound only outside scope still fails no-wildcards but not no-secrets', async () => {
    const rs = await run(
      base({
        'cluster/bad.yaml': `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: ing-all, namespace: ingress }
rules: [{ apiGroups: [""], resources: ["*"], verbs: ["get"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ing-all, namespace: ingress }
subjects: [{ kind: User, name: carol, apiGroup: rbac.authorization.k8s.io }]
roleRef: { kind: Role, name: ing-all, apiGroup: rbac.authorization.k8s.io }
`,
      }),
    );
    expect(fails(rs, 'rbac.no-wildcards')).toHaveLength(1);
    expect(fails(rs, 'rbac.no-secrets')).toHaveLength(0);
  });
});
