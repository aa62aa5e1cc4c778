import { InputError } from '../errors.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../check/types.ts';
import { loadManifestDir, setFromTexts } from '../manifests/load.ts';
import { schemaAnalyzer } from './schema.ts';

const GOOD = `apiVersion: v1
kind: Namespace
metadata:
  name: cde-frontend
  labels: {pci-scope: in-scope}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: cde-frontend}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: payment-api, namespace: cde-frontend}
spec:
  replicas: 1
  selector: {matchLabels: {app: payment-api}}
  template:
    metadata: {labels: {app: payment-api}}
    spec:
      containers:
        - name: app
          image: registry.local/payment-api:1.0
          ports: [{containerPort: 8443}]
          securityContext: {readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: cde-frontend}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    resourceNames: [payment-api-config]
    verbs: [get]
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  background: true
  rules:
    - name: no-privileged-containers
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        failureAction: Enforce
        pattern: {spec: {containers: [{=(securityContext): {=(privileged): "false"}}]}}
---
apiVersion: pci-harness.dev/v1alpha1
kind: ScopeDeclaration
metadata: {name: scope}
spec:
  scopeLabel: {pci-scope: in-scope}
  namespaces: [cde-frontend]
  podSecurityVersion: v1.34
  cdeNodes:
    label: {pci-scope: in-scope}
    taint: {key: pci-scope, value: in-scope, effect: NoSchedule}
---
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
`;

/** 1-based line of the first line containing needle: expected lines follow the fixture text, not magic numbers. */
function lineIn(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`fixture has no ${needle}`);
  return i + 1;
}

async function run(files: Record<string, string>): Promise<CheckResult[]> {
  return schemaAnalyzer.run(setFromTexts(files), {});
}
const fails = (rs: CheckResult[]) => rs.filter((r) => r.status === 'fail');

describe('schemaAnalyzer', () => {
  it('passes every object of a valid set and skips kinds without a published schema', async () => {
    const rs = await run({ 'set.yaml': GOOD });
    expect(fails(rs)).toEqual([]);
    expect(rs.filter((r) => r.status === 'pass').map((r) => r.object)).toEqual([
      'Namespace/cde-frontend',
      'NetworkPolicy/cde-frontend/default-deny-all',
      'Deployment/cde-frontend/payment-api',
      'Role/cde-frontend/reader',
      'ClusterPolicy/p',
      'ScopeDeclaration/scope',
    ]);
    const skipped = rs.filter((r) => r.status === 'skip');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.message).toMatch(/no published JSON schema/);
  });

  it('fails a built-in object with a wrong type, at the field line (upstream OpenAPI)', async () => {
    const text = GOOD.replace('policyTypes: [Ingress, Egress]', 'policyTypes: Ingress');
    const rs = await run({ 'set.yaml': text });
    expect(fails(rs)).toEqual([
      expect.objectContaining({
        check: 'schema.valid',
        requirement: '2.2.1',
        object: 'NetworkPolicy/cde-frontend/default-deny-all',
        file: 'set.yaml',
        line: lineIn(text, 'policyTypes: Ingress'),
        message: expect.stringMatching(/^spec\.policyTypes: must be array/),
      }),
    ]);
  });

  it('fails an unknown field in a built-in object (a typo that kubectl --validate=strict rejects)', async () => {
    const text = GOOD.replace('readOnlyRootFilesystem: true', 'readOnlyRootFileSystem: true');
    const rs = await run({ 'set.yaml': text });
    expect(fails(rs)).toEqual([
      expect.objectContaining({
        object: 'Deployment/cde-frontend/payment-api',
        line: lineIn(text, 'readOnlyRootFileSystem'),
        message: expect.stringMatching(/^spec\.template\.spec\.containers\[0\]\.securityContext\.readOnlyRootFileSystem: unknown field/),
      }),
    ]);
  });

  it('fails a Kyverno policy against the published CRD schema: bad enum and unknown field', async () => {
    const bad = GOOD.replace('failureAction: Enforce', 'failureAction: enforce').replace('background: true', 'background: true\n  validationFailureActoin: Enforce');
    const rs = fails(await run({ 'set.yaml': bad }));
    expect(rs.map((r) => [r.object, r.line, r.message])).toEqual([
      ['ClusterPolicy/p', lineIn(bad, 'validationFailureActoin'), expect.stringMatching(/^spec\.validationFailureActoin: unknown field .*Kyverno v1\.16\.3 CRD/)],
      ['ClusterPolicy/p', lineIn(bad, 'failureAction: enforce'), expect.stringMatching(/^spec\.rules\[0\]\.validate\.failureAction: must be one of "Audit", "Enforce"/)],
    ]);
  });

  // The loader rejects malformed declarations as bad input (exit 2) before any analyzer runs.
  it('rejects a harness spec document that does not match harness/spec/types.ts as bad input, with file and line', () => {
    const text = GOOD.replace('effect: NoSchedule', 'effect: PreferNoSchedule');
    expect(() => setFromTexts({ 'set.yaml': text })).toThrow(/spec\.cdeNodes\.taint\.effect must be one of/);
    try {
      setFromTexts({ 'set.yaml': text });
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).file).toBe('set.yaml');
      expect((e as InputError).line).toBe(lineIn(text, 'PreferNoSchedule'));
    }
  });

  const real = join(import.meta.dirname, '..', '..', 'manifests');
  it.runIf(existsSync(real))('the shipped manifest set is schema-valid', async () => {
    const rs = await schemaAnalyzer.run(loadManifestDir(real), {});
    expect(fails(rs)).toEqual([]);
    expect(rs.some((r) => r.status === 'pass')).toBe(true);
  });
});
