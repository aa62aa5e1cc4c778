/**
 * The Cilium install manifest: chart values for what can be built here, and
 * the checks the rendered manifest must pass before the recipe writes it.
 * Pure functions (the recipe renders with helm; the tests feed text).
 */
import { parseAllDocuments, stringify } from 'yaml';
import { imagesIn } from '../lib/manifest-images.ts';

export interface CiliumImages {
  /** Agent image (also every init container of the DaemonSet). */
  agent: { repository: string; tag: string };
  /** Operator repository WITHOUT the "-generic" the chart appends, and its tag. */
  operator: { repository: string; tag: string };
}

/**
 * Chart values (install/kubernetes/cilium/values.yaml). Why each:
 * - l7Proxy/envoy off: Envoy (cilium/proxy, C++/Bazel) cannot be built here, so no L7
 *   policy and no DNS proxy (no toFQDNs); L3/L4 NetworkPolicy is unaffected.
 * - hubble off: its certgen does not resolve on the proxy.
 * - kube-proxy stays (kubeProxyReplacement=false): the kind node image runs it, as on Calico.
 * - VXLAN tunnel: no routes between the kind nodes are needed (Calico uses VXLAN too).
 * - ipam kubernetes: each node's podCIDR from the controller-manager, i.e. kind's
 *   podSubnet (10.244.0.0/16, the pool Calico gets); requireIPv4PodCIDR makes the
 *   agent wait for it rather than start without one.
 * - image digests off: the images are local builds, addressed by tag.
 */
export function ciliumValues(images: CiliumImages): Record<string, unknown> {
  return {
    l7Proxy: false,
    envoy: { enabled: false },
    hubble: { enabled: false },
    kubeProxyReplacement: 'false',
    routingMode: 'tunnel',
    tunnelProtocol: 'vxlan',
    ipam: { mode: 'kubernetes' },
    k8s: { requireIPv4PodCIDR: true },
    image: { override: null, repository: images.agent.repository, tag: images.agent.tag, useDigest: false, pullPolicy: 'IfNotPresent' },
    operator: {
      replicas: 1,
      image: { override: null, repository: images.operator.repository, tag: images.operator.tag, useDigest: false, pullPolicy: 'IfNotPresent', suffix: '' },
    },
  };
}

export function ciliumValuesYaml(images: CiliumImages): string {
  return `# written by scripts/images/cilium/manifest.ts\n${stringify(ciliumValues(images))}`;
}

/**
 * What the rendered cilium-config ConfigMap must say for the values above to
 * have taken effect (a chart that renamed a value would otherwise silently
 * render its default: Envoy on, Hubble on, cluster-pool IPAM...).
 */
export const EXPECTED_CONFIG: Readonly<Record<string, string>> = {
  'enable-l7-proxy': 'false',
  'enable-hubble': 'false',
  'external-envoy-proxy': 'false',
  'kube-proxy-replacement': 'false',
  'routing-mode': 'tunnel',
  'tunnel-protocol': 'vxlan',
  ipam: 'kubernetes',
  'k8s-require-ipv4-pod-cidr': 'true',
};

interface K8sDoc {
  kind?: string;
  metadata?: { name?: string };
  data?: Record<string, unknown>;
}

/**
 * Problems with a rendered manifest, one sentence each (empty = fit to ship):
 * images not built here (each would be a pull), the cilium-config entries that
 * differ from EXPECTED_CONFIG, workloads we cannot run (Envoy, Hubble).
 */
export function ciliumManifestProblems(manifest: string, built: readonly string[]): string[] {
  const problems: string[] = [];
  const foreign = imagesIn(manifest).filter((r) => !built.includes(r));
  if (foreign.length) problems.push(`uses images not built here: ${foreign.join(', ')}`);
  const docs = parseAllDocuments(manifest).map((d) => d.toJS() as K8sDoc | null).filter((d): d is K8sDoc => !!d);
  const config = docs.find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'cilium-config');
  if (!config) problems.push('has no ConfigMap cilium-config');
  else {
    for (const [key, want] of Object.entries(EXPECTED_CONFIG)) {
      const got = config.data?.[key];
      if (String(got) !== want) problems.push(`cilium-config ${key} is ${got === undefined ? 'absent' : `"${String(got)}"`}, expected "${want}"`);
    }
  }
  for (const name of ['cilium-envoy', 'hubble-relay', 'hubble-ui', 'hubble-generate-certs']) {
    if (docs.some((d) => ['DaemonSet', 'Deployment', 'Job', 'CronJob'].includes(d.kind ?? '') && d.metadata?.name === name)) {
      problems.push(`renders ${name}, which this recipe does not build`);
    }
  }
  return problems;
}
