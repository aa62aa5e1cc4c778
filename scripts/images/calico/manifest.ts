/**
 * Patches upstream manifests/calico-vxlan.yaml for a kind test cluster. Every
 * change is named here; anything the patch expects but does not find is an
 * error (the upstream manifest changed: re-check, don't silently ship it).
 */
import { parseAllDocuments, stringify } from 'yaml';
import { imagesIn } from '../lib/manifest-images.ts';

export interface CalicoManifestOptions {
  /** kind's networking.podSubnet. */
  podCidr: string;
  /** Image refs this build produced, by upstream repository (calico/node, calico/cni). */
  images: { node: string; cni: string };
  /** CNI option: hold pod start until Felix has programmed its policy (0 = off). */
  policySetupTimeoutSeconds: number;
}

type Obj = Record<string, any>;
interface EnvVar { name: string; value?: string; valueFrom?: unknown }

/** calico-kube-controllers only runs IPAM garbage collection for deleted nodes and LoadBalancer IP
 * allocation (ENABLED_CONTROLLERS=node,loadbalancer); a fixed-size test cluster needs neither, and
 * calico-node does not depend on it. Dropped rather than built. */
const KUBE_CONTROLLERS = 'calico-kube-controllers';

export function patchCalicoManifest(text: string, opts: CalicoManifestOptions): string {
  const docs = parseAllDocuments(text).map((d) => d.toJS() as Obj | null).filter((d): d is Obj => !!d && !!d.kind);
  const kept = docs.filter((d) => d.metadata?.name !== KUBE_CONTROLLERS);
  if (kept.length === docs.length) throw new Error(`calico manifest: no ${KUBE_CONTROLLERS} objects found to drop`);

  const config = find(kept, 'ConfigMap', 'calico-config');
  config.data.calico_backend = 'vxlan';
  const cni = JSON.parse(config.data.cni_network_config.replace('__CNI_MTU__', '0')) as Obj;
  const calicoPlugin = (cni.plugins as Obj[]).find((p) => p.type === 'calico');
  if (!calicoPlugin) throw new Error('calico manifest: cni_network_config has no calico plugin');
  calicoPlugin.policy_setup_timeout_seconds = opts.policySetupTimeoutSeconds;
  // Keep the placeholder the install binary substitutes (it expects a bare number there).
  config.data.cni_network_config = JSON.stringify(cni, null, 2).replace('"mtu": 0', '"mtu": __CNI_MTU__');

  const ds = find(kept, 'DaemonSet', 'calico-node');
  const podSpec = ds.spec.template.spec as Obj;
  const containers = [...(podSpec.initContainers ?? []), ...podSpec.containers] as Obj[];
  for (const c of containers) {
    c.image = retag(c.image as string, opts.images);
    c.imagePullPolicy = 'IfNotPresent';
  }
  const node = (podSpec.containers as Obj[]).find((c) => c.name === 'calico-node');
  if (!node) throw new Error('calico manifest: calico-node container missing');
  const env = node.env as EnvVar[];
  setEnv(env, 'CALICO_IPV4POOL_VXLAN', 'Always'); // kind nodes share one subnet: CrossSubnet would never encapsulate
  setEnv(env, 'CALICO_IPV4POOL_IPIP', 'Never');
  setEnv(env, 'CALICO_IPV4POOL_CIDR', opts.podCidr);
  setEnv(env, 'CALICO_NETWORKING_BACKEND', 'vxlan'); // no BIRD/confd in our image
  setEnv(env, 'FELIX_NFTABLESMODE', 'Disabled'); // iptables dataplane: bookworm's nft is older than Calico expects
  // CGO_ENABLED=0 links felix/bpf/libbpf's stub, which panics when called. In iptables mode
  // Felix still "cleans up" BPF connect-time LB state at start (int_dataplane.go:
  // bpfnat.RemoveConnectTimeLoadBalancer) and panics "LIBBPF syscall stub" (seen on our first
  // boot). Upstream's own escape hatch (felix/bpf/nat/connecttime.go) skips that cleanup; a
  // stub build never creates BPF state, so there is nothing to clean.
  setEnv(env, 'FELIX_DebugSkipCTLBCleanup', 'true');
  return kept.map((d) => stringify(d, { lineWidth: 0 })).map((s) => `---\n${s}`).join('');
}

function find(docs: Obj[], kind: string, name: string): Obj {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`calico manifest: ${kind}/${name} not found`);
  return d;
}

function setEnv(env: EnvVar[], name: string, value: string): void {
  const existing = env.find((e) => e.name === name);
  if (existing) {
    delete existing.valueFrom;
    existing.value = value;
  } else env.push({ name, value });
}

function retag(image: string, images: CalicoManifestOptions['images']): string {
  if (/\/calico\/node:/.test(image)) return images.node;
  if (/\/calico\/cni:/.test(image)) return images.cni;
  throw new Error(`calico manifest uses ${image}, which this recipe does not build`);
}

