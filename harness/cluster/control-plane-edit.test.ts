import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { controlPlaneWiring, editApiServerManifest, failingChecks, flagsOf, RESTART_ANNOTATION } from './control-plane-edit.ts';

const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --audit-log-maxsize=100
    - --audit-log-maxbackup=10
    name: kube-apiserver
`;

describe('editApiServerManifest', () => {
  it('replaces and appends flags, sets the restart annotation, keeps the rest', () => {
    const out = parse(editApiServerManifest(manifest, { 'audit-log-maxsize': '1', 'audit-log-compress': 'false' }, 'why')) as { metadata: { name: string; annotations: Record<string, string> }; spec: { containers: Array<{ command: string[] }> } };
    expect(out.spec.containers[0]!.command).toEqual(['kube-apiserver', '--audit-log-maxsize=1', '--audit-log-maxbackup=10', '--audit-log-compress=false']);
    expect(out.metadata.annotations[RESTART_ANNOTATION]).toBe('why');
    expect(out.metadata.name).toBe('kube-apiserver');
    expect(flagsOf(out.spec.containers[0]!.command).get('audit-log-maxbackup')).toBe('10');
  });
  it('refuses a manifest without the kube-apiserver container', () => {
    expect(() => editApiServerManifest(manifest.replace('name: kube-apiserver\n', 'name: other\n').replace(/name: kube-apiserver$/m, 'name: other'), {}, 'x')).toThrow(/no kube-apiserver container/);
  });
});

describe('controlPlaneWiring', () => {
  it('the kindnet layout wires the audit policy and encryption config exactly as pci-calico (small clusters prove the set)', () => {
    expect(controlPlaneWiring('kindnet')).toEqual(controlPlaneWiring('pci-calico'));
  });
});

describe('failingChecks', () => {
  it('names only the failing /readyz checks (the answer arrives with escaped newlines inside an error)', () => {
    expect(failingChecks('Error from server (InternalError): an error on the server ("[+]ping ok\\n[-]informer-sync failed: reason withheld\\n[+]shutdown ok\\nreadyz check failed")')).toBe('informer-sync failed: reason withheld');
    expect(failingChecks('connection refused')).toBe('connection refused');
  });
});
