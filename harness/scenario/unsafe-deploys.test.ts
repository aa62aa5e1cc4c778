import { describe, expect, it } from 'vitest';
import { harnessPod } from '../cluster/pods.ts';
import { asKind, kyvernoRuleName, predictPsa, readAdmission, UNSAFE_PATHS, weakened, WORKLOAD_KINDS } from './unsafe-deploys.ts';

// A Kyverno 1.16 denial as the apiserver returns it (kubectl create --dry-run=server, pci-dev).
const KYVERNO_TEXT = `Error from server: error when creating "STDIN": admission webhook "validate.kyverno.svc-fail" denied the request: 

resource Pod/pci-kyv-test/t1 was blocked due to the following policies 

cde-pod-security-requirements:
  no-host-namespaces: 'validation error: PCI DSS 2.2.6: hostNetwork, hostPID and hostIPC
    are not permitted in CDE namespaces. rule no-host-namespaces failed at path /spec/hostPID/'
  no-privileged-containers: 'validation error: PCI DSS 2.2.6: privileged containers
    (including init and ephemeral containers) are not permitted in CDE namespaces.
    rule no-privileged-containers failed at path /spec/containers/0/securityContext/privileged/'
`;
const PSA_TEXT = 'Error from server (Forbidden): error when creating "STDIN": pods "x" is forbidden: violates PodSecurity "restricted:v1.34": privileged (container "main" must not set securityContext.privileged=true)';
const RBAC_TEXT = 'Error from server (Forbidden): rolebindings.rbac.authorization.k8s.io is forbidden: User "ci-pipeline" cannot create resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "cde-processing"';

const base = () => harnessPod({ namespace: 'cde-processing', name: 'base', image: 'localhost/pci-harness/server:v1' });
const restricted = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.34' };

describe('reading an admission answer', () => {
  it('names every Kyverno rule of the denial, policy-qualified, and nothing from its message lines', () => {
    expect(readAdmission(1, KYVERNO_TEXT)).toEqual({ verdict: 'rejected', layer: 'kyverno', kyvernoRules: ['cde-pod-security-requirements/no-host-namespaces', 'cde-pod-security-requirements/no-privileged-containers'] });
  });
  it('tells PSA (with its profile), RBAC, success and a broken call apart', () => {
    expect(readAdmission(1, PSA_TEXT)).toMatchObject({ verdict: 'rejected', layer: 'psa', psaProfile: 'restricted:v1.34' });
    expect(readAdmission(1, RBAC_TEXT)).toMatchObject({ verdict: 'rejected', layer: 'rbac' });
    expect(readAdmission(0, 'pod/x created')).toMatchObject({ verdict: 'admitted' });
    expect(readAdmission(1, 'Unable to connect to the server: dial tcp 127.0.0.1:6443: connect: connection refused')).toMatchObject({ verdict: 'check-failed' });
  });
});

describe('the unsafe paths', () => {
  it('the base pod is restricted-compliant, and every path but the PSA-silent ones makes PSA restricted reject it', () => {
    expect(predictPsa(base(), restricted)).toMatchObject({ rejects: false });
    const psaSilent = new Set(['writable-root', 'foreign-registry']);
    for (const p of UNSAFE_PATHS) expect(predictPsa(weakened(base(), p, p.id), restricted).rejects, p.id).toBe(!psaSilent.has(p.id));
  });
  it('weakening copies: the base pod is never changed', () => {
    const b = base();
    const before = JSON.stringify(b);
    for (const p of UNSAFE_PATHS) weakened(b, p, p.id);
    expect(JSON.stringify(b)).toBe(before);
  });
  it('every workload kind carries the same pod spec, and Kyverno names its autogen rules per kind', () => {
    const pod = weakened(base(), UNSAFE_PATHS[0], 'w');
    for (const kind of WORKLOAD_KINDS) {
      const o = asKind(pod, kind) as { kind: string; spec: Record<string, unknown> };
      expect(o.kind).toBe(kind);
      const spec = kind === 'Pod' ? o.spec : kind === 'CronJob' ? (o.spec as any).jobTemplate.spec.template.spec : (o.spec as any).template.spec;
      expect(spec.containers[0].securityContext.privileged).toBe(true);
    }
    expect(kyvernoRuleName('no-privileged-containers', 'Pod')).toBe('no-privileged-containers');
    expect(kyvernoRuleName('no-privileged-containers', 'StatefulSet')).toBe('autogen-no-privileged-containers');
    expect(kyvernoRuleName('no-privileged-containers', 'CronJob')).toBe('autogen-cronjob-no-privileged-containers');
  });
});
