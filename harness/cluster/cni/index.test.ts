import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../paths.ts';
import { agentErrorLines } from './cilium.ts';
import { cniOf, cniTitle, imagesForLayout, isPciLayout, layoutForCni } from './index.ts';

const MANIFESTS: Record<string, string> = {
  '/calico.yaml': 'containers:\n  - image: docker.io/calico/node:v3.30.1\n  - image: docker.io/calico/cni:v3.30.1\n',
  '/cilium.yaml': 'containers:\n  - image: "quay.io/cilium/cilium:v1.19.7"\n  - image: "quay.io/cilium/operator-generic:v1.19.7"\n',
};
const read = (f: string) => MANIFESTS[f]!;
const ALL = ['docker.io/calico/cni:v3.30.1', 'docker.io/calico/node:v3.30.1', 'localhost/pci-harness/probe:v1', 'quay.io/cilium/cilium:v1.19.7', 'quay.io/cilium/operator-generic:v1.19.7', 'reg.kyverno.io/kyverno/kyverno:v1.16.3'];

describe('layouts and their CNI', () => {
  it('maps layouts to CNIs and the live lane choice to layouts', () => {
    expect([cniOf('pci-calico'), cniOf('pci-cilium'), cniOf('kindnet')]).toEqual(['calico', 'cilium', 'kindnet']);
    expect([isPciLayout('pci-calico'), isPciLayout('pci-cilium'), isPciLayout('kindnet')]).toEqual([true, true, false]);
    expect(layoutForCni('cilium')).toBe('pci-cilium');
    expect(layoutForCni('calico')).toBe('pci-calico');
    expect(() => layoutForCni('flannel')).toThrow(/use calico or cilium/);
    expect(cniTitle('cilium', 'quay.io/cilium/cilium:v1.19.7')).toBe('Cilium v1.19.7');
    expect(cniTitle('calico', 'localhost:5000/calico/node')).toBe('Calico');
  });
});

describe('imagesForLayout', () => {
  const src = { calicoManifest: '/calico.yaml', ciliumManifest: '/cilium.yaml' };
  it('keeps the other CNI off the nodes', () => {
    expect(imagesForLayout('pci-cilium', src, ALL, read)).toEqual(ALL.filter((r) => !r.includes('calico')));
    expect(imagesForLayout('pci-calico', src, ALL, read)).toEqual(ALL.filter((r) => !r.includes('cilium')));
  });
  it('gives kindnet the same set as pci-calico (one bake serves both, as before Cilium)', () => {
    expect(imagesForLayout('kindnet', src, ALL, read)).toEqual(imagesForLayout('pci-calico', src, ALL, read));
  });
  it('changes nothing when Cilium was not built', () => {
    expect(imagesForLayout('pci-calico', { calicoManifest: '/calico.yaml', ciliumManifest: '' }, ALL, read)).toEqual(ALL);
  });
});

describe('manifests/kind/pci-cilium.yaml', () => {
  const load = (f: string) => parse(readFileSync(join(REPO_ROOT, 'manifests', 'kind', f), 'utf8')) as Record<string, unknown>;
  it('is pci-calico.yaml except its comments: same nodes, CDE worker, control-plane wiring, pod subnet', () => {
    expect(load('pci-cilium.yaml')).toEqual(load('pci-calico.yaml'));
    expect(load('pci-cilium.yaml')).toMatchObject({ networking: { disableDefaultCNI: true, podSubnet: '10.244.0.0/16' } });
  });
});

describe('agentErrorLines', () => {
  it('keeps error and fatal lines once per message, in order', () => {
    const logs = [
      'time=2026-12-01T14:00:00Z level=info msg="Starting"',
      'time=2026-12-01T14:00:01Z level=error msg="Failed to load program" error="verifier: invalid access"',
      'time=2026-12-01T14:00:02Z level=error msg="Failed to load program" error="verifier: invalid access"',
      'time=2026-12-01T14:00:03Z level=warn msg="ignored"',
      '{"time":"x","level":"FATAL","msg":"Daemon creation failed"}',
    ].join('\n');
    expect(agentErrorLines(logs)).toEqual([
      'time=2026-12-01T14:00:01Z level=error msg="Failed to load program" error="verifier: invalid access"',
      '{"time":"x","level":"FATAL","msg":"Daemon creation failed"}',
    ]);
    expect(agentErrorLines('level=info msg=ok')).toEqual([]);
  });
});
