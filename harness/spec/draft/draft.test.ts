import { describe, expect, it } from 'vitest';
import { setFromTexts } from '../../manifests/load.ts';
import { draftAccess } from './access.ts';
import { adaptAudit } from './audit.ts';

const NS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: pay\n';

describe('draftAccess: the AccessTable equal to the effective RBAC', () => {
  it('merges verbs per resource and names per verb set, keeps cluster scope, and notes what the table cannot say', () => {
    const set = setFromTexts({
      'rbac.yaml': `${NS}---
apiVersion: v1
kind: ServiceAccount
metadata: { name: api, namespace: pay }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: r, namespace: pay }
rules:
  - { apiGroups: [""], resources: [configmaps], resourceNames: [a, b], verbs: [get] }
  - { apiGroups: [""], resources: [configmaps], resourceNames: [a], verbs: [watch] }
  - { apiGroups: [apps], resources: [deployments], verbs: [list, get] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: rb, namespace: pay }
subjects: [{ kind: ServiceAccount, name: api, namespace: pay }]
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: r }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: cr }
rules:
  - { apiGroups: [""], resources: [namespaces], verbs: [get] }
  - { nonResourceURLs: [/metrics], verbs: [get] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: crb }
subjects: [{ kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io }]
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr }
`,
    });
    const d = draftAccess(set);
    const api = d.subjects.find((s) => s.subject.name === 'api')!;
    expect(api.allow).toEqual(
      expect.arrayContaining([
        { namespace: 'pay', apiGroup: '', resource: 'configmaps', resourceNames: ['a'], verbs: ['get', 'watch'] },
        { namespace: 'pay', apiGroup: '', resource: 'configmaps', resourceNames: ['b'], verbs: ['get'] },
        { namespace: 'pay', apiGroup: 'apps', resource: 'deployments', verbs: ['get', 'list'] },
      ]),
    );
    expect(api.allow).toHaveLength(3);
    expect(d.subjects.find((s) => s.subject.kind === 'Group')?.allow).toEqual([{ apiGroup: '', resource: 'namespaces', verbs: ['get'] }]);
    expect(d.notes).toEqual([expect.stringMatching(/Group ops is granted get on \/metrics: the AccessTable cannot declare non-resource URLs/)]);
  });
});

describe('adaptAudit: the shipped cases on the user namespaces', () => {
  it('maps namespaces round robin, in requests, namespace names and ServiceAccount principals', () => {
    const cases = adaptAudit(
      [
        { name: 'a', requirement: '10.2.1.1', expectLevel: 'Metadata', request: { user: 'system:serviceaccount:cde-frontend:payment-api', groups: ['system:serviceaccounts:cde-frontend', 'system:authenticated'], verb: 'get', resource: 'configmaps', namespace: 'cde-frontend' } },
        { name: 'b', requirement: '10.2.1.2', expectLevel: 'RequestResponse', request: { user: 'bob', verb: 'patch', resource: 'namespaces', name: 'cde-storage' } },
        { name: 'c', requirement: '10.2.1.2', expectLevel: 'Request', request: { user: 'bob', verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'default' } },
      ],
      ['cde-frontend', 'cde-processing', 'cde-storage'],
      ['ledger', 'storefront'],
      new Map([['ledger', ['default', 'ledger-db']]]),
    );
    expect(cases[0]!.request).toMatchObject({ user: 'system:serviceaccount:ledger:ledger-db', groups: ['system:serviceaccounts:ledger', 'system:authenticated'], namespace: 'ledger' });
    expect(cases[1]!.request.name).toBe('ledger'); // cde-storage is the third: round robin back to the first
    expect(cases[2]!.request.namespace).toBe('default'); // outside the CDE: unchanged
  });
});
