import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ciliumManifestProblems, ciliumValues, ciliumValuesYaml, EXPECTED_CONFIG } from './manifest.ts';

const IMAGES = { agent: { repository: 'quay.io/cilium/cilium', tag: 'v1.19.7' }, operator: { repository: 'quay.io/cilium/operator', tag: 'v1.19.7' } };
const BUILT = ['quay.io/cilium/cilium:v1.19.7', 'quay.io/cilium/operator-generic:v1.19.7'];

// Shape of `helm template` of install/kubernetes/cilium v1.19.7 with our values, trimmed to what the checks read.
function rendered(config: Record<string, string> = EXPECTED_CONFIG, extra = ''): string {
  return `---
apiVersion: v1
kind: ConfigMap
metadata: { name: cilium-config, namespace: kube-system }
data:
${Object.entries(config).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: cilium, namespace: kube-system }
spec:
  template:
    spec:
      initContainers:
        - { name: config, image: "quay.io/cilium/cilium:v1.19.7" }
      containers:
        - { name: cilium-agent, image: "quay.io/cilium/cilium:v1.19.7" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: cilium-operator, namespace: kube-system }
spec:
  template:
    spec:
      containers:
        - { name: cilium-operator, image: "quay.io/cilium/operator-generic:v1.19.7" }
${extra}`;
}

describe('ciliumValues', () => {
  it('turns off what cannot be built here and points every image at the local build, by tag', () => {
    const v = parse(ciliumValuesYaml(IMAGES)) as ReturnType<typeof ciliumValues> & Record<string, any>;
    expect(v).toMatchObject({
      l7Proxy: false, envoy: { enabled: false }, hubble: { enabled: false }, kubeProxyReplacement: 'false',
      routingMode: 'tunnel', tunnelProtocol: 'vxlan', ipam: { mode: 'kubernetes' },
      image: { repository: 'quay.io/cilium/cilium', tag: 'v1.19.7', useDigest: false },
      operator: { replicas: 1, image: { repository: 'quay.io/cilium/operator', tag: 'v1.19.7', useDigest: false, suffix: '' } },
    });
    // The chart treats kubeProxyReplacement as a string ("true"/"false"): a YAML boolean would be a different value.
    expect(typeof v.kubeProxyReplacement).toBe('string');
  });
});

describe('ciliumManifestProblems', () => {
  it('accepts a manifest naming only built images with the expected config', () => {
    expect(ciliumManifestProblems(rendered(), BUILT)).toEqual([]);
  });

  it('names every image not built here (each would be a pull)', () => {
    const m = rendered(EXPECTED_CONFIG, `---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: cilium-envoy, namespace: kube-system }
spec: { template: { spec: { containers: [{ name: envoy, image: "quay.io/cilium/cilium-envoy:v1.36.9" }] } } }
`);
    const p = ciliumManifestProblems(m, BUILT);
    expect(p).toContain('uses images not built here: quay.io/cilium/cilium-envoy:v1.36.9');
    expect(p).toContain('renders cilium-envoy, which this recipe does not build');
  });

  it('says which cilium-config entry a renamed or ignored value left at its default', () => {
    const p = ciliumManifestProblems(rendered({ ...EXPECTED_CONFIG, 'enable-l7-proxy': 'true', ipam: 'cluster-pool' }), BUILT);
    expect(p).toEqual(['cilium-config enable-l7-proxy is "true", expected "false"', 'cilium-config ipam is "cluster-pool", expected "kubernetes"']);
    const { 'routing-mode': _, ...withoutRouting } = EXPECTED_CONFIG;
    expect(ciliumManifestProblems(rendered(withoutRouting), BUILT)).toEqual(['cilium-config routing-mode is absent, expected "tunnel"']);
  });

  it('refuses a manifest without the agent config', () => {
    expect(ciliumManifestProblems('---\nkind: Namespace\napiVersion: v1\nmetadata: { name: x }\n', BUILT)).toEqual(['has no ConfigMap cilium-config']);
  });
});
