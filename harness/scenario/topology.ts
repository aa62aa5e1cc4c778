import type { Cluster } from '../cluster/provider.ts';

/**
 * What the live cluster looks like, read once per scenario file: nodes, the
 * Services and pods of the set's workloads, kube-dns, the API server. The
 * matrix addresses targets through it (Service DNS name, ClusterIP, pod IP).
 */
export interface NodeInfo {
  name: string;
  ip: string;
  cde: boolean;
  controlPlane: boolean;
  ready: boolean;
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol: string;
  targetPort: number | string;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  clusterIP: string;
  selector: Record<string, string>;
  ports: ServicePort[];
}

export interface PodInfo {
  namespace: string;
  name: string;
  ip: string;
  node: string;
  labels: Record<string, string>;
  ready: boolean;
}

export interface Topology {
  nodes: NodeInfo[];
  services: ServiceInfo[];
  pods: PodInfo[];
  apiServer: { clusterIP: string; port: number; endpoints: Array<{ ip: string; port: number }> };
  kubeDns: { clusterIP: string; pods: PodInfo[] };
}

interface K8sList<T> {
  items: T[];
}

async function getJson<T>(cluster: Cluster, args: string[]): Promise<T> {
  const { stdout } = await cluster.kubectl(['get', ...args, '-o', 'json']);
  return JSON.parse(stdout) as T;
}

type NodeJson = { metadata: { name: string; labels?: Record<string, string> }; status: { addresses?: Array<{ type: string; address: string }>; conditions?: Array<{ type: string; status: string }> } };
type SvcJson = { metadata: { name: string; namespace: string }; spec: { clusterIP?: string; selector?: Record<string, string>; ports?: ServicePort[] } };
type PodJson = {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { podIP?: string; phase?: string; conditions?: Array<{ type: string; status: string }> };
};
type SliceJson = { endpoints?: Array<{ addresses: string[] }>; ports?: Array<{ port: number }> };

export async function readTopology(cluster: Cluster): Promise<Topology> {
  const [nodes, svcs, pods, slices] = await Promise.all([
    getJson<K8sList<NodeJson>>(cluster, ['nodes']),
    getJson<K8sList<SvcJson>>(cluster, ['services', '-A']),
    getJson<K8sList<PodJson>>(cluster, ['pods', '-A']),
    getJson<K8sList<SliceJson>>(cluster, ['endpointslices', '-n', 'default', '-l', 'kubernetes.io/service-name=kubernetes']),
  ]);
  const services: ServiceInfo[] = svcs.items.map((s) => ({
    namespace: s.metadata.namespace,
    name: s.metadata.name,
    clusterIP: s.spec.clusterIP ?? '',
    selector: s.spec.selector ?? {},
    ports: (s.spec.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })),
  }));
  const podInfos: PodInfo[] = pods.items
    .filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running' && p.status.podIP)
    .map((p) => ({
      namespace: p.metadata.namespace,
      name: p.metadata.name,
      ip: p.status.podIP as string,
      node: p.spec.nodeName ?? '',
      labels: p.metadata.labels ?? {},
      ready: (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    }));
  const kubernetes = services.find((s) => s.namespace === 'default' && s.name === 'kubernetes');
  const kubeDns = services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
  if (!kubernetes || !kubeDns) throw new Error('cluster has no default/kubernetes or kube-system/kube-dns Service: is this a Kubernetes cluster the harness booted?');
  return {
    nodes: nodes.items.map((n) => ({
      name: n.metadata.name,
      ip: n.status.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
      cde: n.metadata.labels?.['pci-scope'] === 'in-scope',
      controlPlane: 'node-role.kubernetes.io/control-plane' in (n.metadata.labels ?? {}),
      ready: (n.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    })),
    services,
    pods: podInfos,
    apiServer: {
      clusterIP: kubernetes.clusterIP,
      port: kubernetes.ports[0]?.port ?? 443,
      endpoints: slices.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses.map((ip) => ({ ip, port: s.ports?.[0]?.port ?? 6443 })))),
    },
    kubeDns: { clusterIP: kubeDns.clusterIP, pods: podInfos.filter((p) => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns') },
  };
}

/** Ready pods a Service selects (its endpoints), by label match. */
export function podsOfService(t: Topology, s: ServiceInfo): PodInfo[] {
  const sel = Object.entries(s.selector);
  if (sel.length === 0) return [];
  return t.pods.filter((p) => p.namespace === s.namespace && p.ready && sel.every(([k, v]) => p.labels[k] === v));
}
