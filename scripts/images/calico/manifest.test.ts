import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { imagesIn } from '../lib/manifest-images.ts';
import { patchCalicoManifest } from './manifest.ts';

// Shape of upstream manifests/calico-vxlan.yaml (v3.30), trimmed to what the patch touches.
const UPSTREAM = `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: calico-kube-controllers, namespace: kube-system }
---
kind: ConfigMap
apiVersion: v1
metadata: { name: calico-config, namespace: kube-system }
data:
  calico_backend: "vxlan"
  veth_mtu: "0"
  cni_network_config: |-
    {
      "name": "k8s-pod-network",
      "cniVersion": "0.3.1",
      "plugins": [
        { "type": "calico", "mtu": __CNI_MTU__, "ipam": { "type": "calico-ipam" } },
        { "type": "portmap", "snat": true, "capabilities": {"portMappings": true} }
      ]
    }
---
kind: DaemonSet
apiVersion: apps/v1
metadata: { name: calico-node, namespace: kube-system }
spec:
  template:
    spec:
      initContainers:
        - { name: install-cni, image: docker.io/calico/cni:v3.30.1, imagePullPolicy: IfNotPresent }
      containers:
        - name: calico-node
          image: docker.io/calico/node:v3.30.1
          env:
            - name: CALICO_NETWORKING_BACKEND
              valueFrom: { configMapKeyRef: { name: calico-config, key: calico_backend } }
            - { name: CALICO_IPV4POOL_IPIP, value: "Never" }
            - { name: CALICO_IPV4POOL_VXLAN, value: "CrossSubnet" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: calico-kube-controllers, namespace: kube-system }
spec:
  template:
    spec:
      containers: [{ name: calico-kube-controllers, image: docker.io/calico/kube-controllers:v3.30.1 }]
`;

const OPTS = {
  podCidr: '192.168.0.0/16',
  images: { node: 'docker.io/calico/node:v3.30.1', cni: 'docker.io/calico/cni:v3.30.1' },
  policySetupTimeoutSeconds: 10,
};

function docs(text: string) {
  return parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
}

describe('patchCalicoManifest', () => {
  const out = patchCalicoManifest(UPSTREAM, OPTS);
  const all = docs(out);
  const node = all.find((d) => d.kind === 'DaemonSet').spec.template.spec.containers[0];
  const env = Object.fromEntries(node.env.map((e: { name: string; value?: string }) => [e.name, e.value]));

  it('forces VXLAN always, no IPIP, vxlan backend, iptables dataplane and the kind pod CIDR', () => {
    expect(env).toMatchObject({
      CALICO_IPV4POOL_VXLAN: 'Always',
      CALICO_IPV4POOL_IPIP: 'Never',
      CALICO_NETWORKING_BACKEND: 'vxlan',
      FELIX_NFTABLESMODE: 'Disabled',
      CALICO_IPV4POOL_CIDR: '192.168.0.0/16',
      FELIX_DebugSkipCTLBCleanup: 'true', // stub libbpf (CGO off) panics in that cleanup
    });
    expect(node.env.find((e: { name: string }) => e.name === 'CALICO_NETWORKING_BACKEND').valueFrom).toBeUndefined();
  });

  it('drops kube-controllers and leaves only images the recipe builds, pulled IfNotPresent', () => {
    expect(all.some((d) => d.metadata.name === 'calico-kube-controllers')).toBe(false);
    expect(imagesIn(out).sort()).toEqual([OPTS.images.cni, OPTS.images.node]);
    expect(node.imagePullPolicy).toBe('IfNotPresent');
  });

  it('sets policy_setup_timeout_seconds on the calico CNI plugin and keeps the MTU placeholder', () => {
    const cni = all.find((d) => d.kind === 'ConfigMap').data.cni_network_config as string;
    expect(cni).toContain('"mtu": __CNI_MTU__');
    const parsed = JSON.parse(cni.replace('__CNI_MTU__', '1450'));
    expect(parsed.plugins[0]).toMatchObject({ type: 'calico', policy_setup_timeout_seconds: 10 });
  });

  it('refuses a manifest that uses an image it does not build', () => {
    const withTypha = UPSTREAM.replace('docker.io/calico/cni:v3.30.1', 'docker.io/calico/typha:v3.30.1');
    expect(() => patchCalicoManifest(withTypha, OPTS)).toThrow(/typha.*does not build/);
  });

  it('refuses a manifest whose shape changed (no calico-config)', () => {
    expect(() => patchCalicoManifest(UPSTREAM.replace('name: calico-config,', 'name: renamed,'), OPTS)).toThrow(/calico-config not found/);
  });
});
