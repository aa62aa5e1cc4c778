import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { effectivePermissions } from '../analyzers/rbac/effective.ts';
import { REPO_ROOT } from '../cluster/paths.ts';
import { loadManifestDir } from '../manifests/load.ts';
import { compareRules, describeMismatch, identityOf, observedAtoms, predictAllows, predictRules, type RulesReviewStatus } from './rbac-live.ts';

const eff = effectivePermissions(loadManifestDir(join(REPO_ROOT, 'manifests')));
const operators = identityOf({ kind: 'Group', name: 'pci-operators' }, 'insider-op');
const auditors = identityOf({ kind: 'Group', name: 'pci-auditors' }, 'insider-au');
const paymentApi = identityOf({ kind: 'ServiceAccount', name: 'payment-api', namespace: 'cde-frontend' }, 'unused');

// What Kubernetes 1.34 returned on a live PCI cluster (pci-dev) for these identities.
const basicUser = [
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
];
const nonResource = [
  { verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] },
  { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] },
];
const oidc = { verbs: ['get'], nonResourceURLs: ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'] };
const operatorsFrontend: RulesReviewStatus = {
  resourceRules: [
    ...basicUser,
    { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] },
    { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] },
    { verbs: ['get', 'list', 'watch'], apiGroups: ['apps'], resources: ['deployments'] },
  ],
  nonResourceRules: nonResource,
  incomplete: false,
};

describe('rbac-live: live SelfSubjectRulesReview vs the offline effective permissions', () => {
  it('impersonation: a Group becomes a throw-away user in it; a ServiceAccount its own user with the SA groups', () => {
    expect(operators.args).toEqual(['--as=insider-op', '--as-group=pci-operators']);
    expect(operators.groups).toEqual(['pci-operators', 'system:authenticated']);
    expect(paymentApi.args).toEqual(['--as=system:serviceaccount:cde-frontend:payment-api']);
    expect(paymentApi.groups).toContain('system:serviceaccounts:cde-frontend');
  });

  it('the review pci-dev returned for pci-operators in cde-frontend equals the prediction (bootstrap defaults included)', () => {
    const c = compareRules(eff, operators, 'cde-frontend', operatorsFrontend);
    expect(c.extra).toEqual([]);
    expect(c.missing).toEqual([]);
    expect(c.equal).toBe(true);
  });

  it('payment-api: its one named ConfigMap in its namespace, and only the defaults (+ OIDC discovery) elsewhere', () => {
    const own: RulesReviewStatus = { resourceRules: [...basicUser, { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['payment-api-config'] }], nonResourceRules: [...nonResource, oidc] };
    expect(compareRules(eff, paymentApi, 'cde-frontend', own).equal).toBe(true);
    const elsewhere = compareRules(eff, paymentApi, 'cde-processing', own);
    expect(elsewhere.equal).toBe(false);
    expect(elsewhere.extra).toEqual(['get configmaps name=payment-api-config']);
    expect(compareRules(eff, paymentApi, 'cde-processing', { resourceRules: basicUser, nonResourceRules: [...nonResource, oidc] }).equal).toBe(true);
  });

  it('auditors in a namespace the table does not name: only their cluster-wide grants', () => {
    const p = [...predictRules(eff, auditors, 'default').atoms.keys()];
    expect(p).toContain('list namespaces');
    expect(p).toContain('get clusterpolicies.kyverno.io');
    expect(p).not.toContain('list networkpolicies.networking.k8s.io');
  });

  it('an extra live grant (secrets) is a mismatch naming the permission', () => {
    const c = compareRules(eff, operators, 'cde-frontend', { ...operatorsFrontend, resourceRules: [...operatorsFrontend.resourceRules!, { verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'] }] });
    expect(c.equal).toBe(false);
    expect(c.extra).toEqual(['get secrets', 'list secrets']);
    expect(describeMismatch(c)).toMatch(/^PREDICTION MISMATCH Group pci-operators .* in namespace cde-frontend: the cluster grants what the model does not predict: get secrets/);
  });

  it('a predicted grant the cluster lacks is a mismatch naming where the model got it', () => {
    const c = compareRules(eff, operators, 'cde-frontend', { ...operatorsFrontend, resourceRules: operatorsFrontend.resourceRules!.filter((r) => r.resources?.[0] !== 'pods/log') });
    expect(c.missing).toEqual(['get pods/log (RoleBinding cde-frontend/pci-operators-view → Role cde-frontend/pci-operator-view)']);
    expect(describeMismatch(c)).toMatch(/the model predicts what the cluster does not grant: get pods\/log/);
  });

  it('an incomplete review is never equal; wildcards stay literal', () => {
    expect(compareRules(eff, operators, 'cde-frontend', { ...operatorsFrontend, incomplete: true }).equal).toBe(false);
    expect([...observedAtoms({ resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] })]).toEqual(['* *.*']);
  });
});

describe('rbac-live: predictAllows', () => {
  it('operators may list pods but never read secrets or exec; the answer names the grant', () => {
    expect(predictAllows(eff, operators, 'cde-storage', { verb: 'list', apiGroup: '', resource: 'pods' })).toMatch(/RoleBinding cde-storage\/pci-operators-view/);
    for (const verb of ['get', 'list', 'watch']) expect(predictAllows(eff, operators, 'cde-storage', { verb, apiGroup: '', resource: 'secrets' })).toBeUndefined();
    expect(predictAllows(eff, auditors, 'cde-frontend', { verb: 'create', apiGroup: '', resource: 'pods/exec', name: 'x' })).toBeUndefined();
  });
});
