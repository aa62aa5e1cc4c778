import type { LoadedObject, ManifestSet } from '../../manifests/types.ts';
import { inScopeNamespaces, namespaceObjects, podTemplates, scopeDeclaration, type PodTemplate } from '../workloads.ts';
import { cidrContainsIp, parseCidr, parseIp, type Cidr } from './cidr.ts';
import type { Labels } from '../../k8s/label-selector.ts';
import type { Protocol } from './policy.ts';

/**
 * The population the reachability matrix is computed over, in the spirit of
 * the upstream netpol e2e model and policy-assistant: every workload's pod
 * template, the implicit kube-dns pod, attacker positions and the outside world.
 */
export interface Port {
  port: number;
  protocol: Protocol;
  name?: string;
}

export type MemberKind = 'workload' | 'kube-dns' | 'attacker' | 'external';

export interface Member {
  kind: MemberKind;
  namespace: string;
  name: string;
  /** For workloads: the object carrying the pod template. */
  template?: PodTemplate;
}

/** An equivalence class: pods with identical namespace + labels + ports behave identically under any policy. */
export interface Endpoint {
  id: number;
  external: boolean;
  namespace: string;
  labels: Labels;
  ports: Port[];
  members: Member[];
  inScope: boolean;
  /** A readable name: the first member, plus a count if the class has more. */
  label: string;
}

export const EXTERNAL_IP = '203.0.113.10'; // TEST-NET-3 (RFC 5737): an address outside any cluster
export const EXTERNAL_IP_PARSED = parseIp(EXTERNAL_IP) as { family: 4 | 6; value: bigint };
/**
 * Ports probed on destinations that declare none (attackers, the outside
 * world). 53 is in the set because a rogue DNS server is a classic
 * exfiltration path: a DNS rule whose peers are split (namespace OR pod
 * instead of namespace AND pod) lets CDE pods talk to any pod in kube-system.
 */
export const PROBE_PORTS: Port[] = [
  { port: 53, protocol: 'UDP' },
  { port: 53, protocol: 'TCP' },
  { port: 80, protocol: 'TCP' },
  { port: 443, protocol: 'TCP' },
];
export const KUBE_DNS: { namespace: string; name: string; labels: Labels; ports: Port[] } = {
  namespace: 'kube-system',
  name: 'kube-dns',
  labels: { 'k8s-app': 'kube-dns' },
  ports: [
    { port: 53, protocol: 'UDP', name: 'dns' },
    { port: 53, protocol: 'TCP', name: 'dns-tcp' },
  ],
};
export const ATTACKER = { namespace: 'default', name: 'attacker', labels: { app: 'attacker' } as Labels };
export const UNLABELLED = '(unlabelled)';
export const EXTERNAL_NAMESPACE = 'external';

export function memberId(m: { namespace: string; name: string }): string {
  return m.namespace === EXTERNAL_NAMESPACE ? `external:${m.name}` : `${m.namespace}/${m.name}`;
}

/**
 * The cluster's pod and Service networks: an ipBlock holding any of their
 * addresses may admit pods (see matrix.ts). From the ScopeDeclaration's
 * spec.clusterNetwork when declared, else from the kind Cluster configs in the
 * set (networking.podSubnet / serviceSubnet, kind's defaults when omitted),
 * else kind's defaults.
 */
export interface ClusterNetwork {
  podCIDRs: Cidr[];
  serviceCIDRs: Cidr[];
  /** Where the CIDRs come from, for messages. */
  source: string;
  /** Declared CIDRs that do not parse, and a network holding EXTERNAL_IP: reported by network.ipblock. */
  problems: Array<{ obj?: LoadedObject; path: (string | number)[]; message: string }>;
}

// kind v0.31.0 pkg/apis/config/v1alpha4/default.go, by networking.ipFamily.
const KIND_DEFAULTS: Record<string, { pod: string; service: string }> = {
  ipv4: { pod: '10.244.0.0/16', service: '10.96.0.0/16' },
  ipv6: { pod: 'fd00:10:244::/56', service: 'fd00:10:96::/112' },
  dual: { pod: '10.244.0.0/16,fd00:10:244::/56', service: '10.96.0.0/16,fd00:10:96::/112' },
};

export function clusterNetwork(set: ManifestSet): ClusterNetwork {
  const problems: ClusterNetwork['problems'] = [];
  const parse = (list: string[], obj: LoadedObject | undefined, path: (string | number)[]): Cidr[] =>
    list.flatMap((t, i) => {
      const c = parseCidr(t.trim());
      if (!c) problems.push({ ...(obj ? { obj } : {}), path: [...path, i], message: `cluster network CIDR "${t}" is not a valid CIDR` });
      return c ? [c] : [];
    });
  const done = (n: Omit<ClusterNetwork, 'problems'>): ClusterNetwork => {
    for (const c of [...n.podCIDRs, ...n.serviceCIDRs])
      if (cidrContainsIp(c, EXTERNAL_IP_PARSED)) problems.push({ path: [], message: `cluster network ${c.text} (${n.source}) holds ${EXTERNAL_IP}, the address the model uses for the outside world: the matrix cannot tell pods from the internet` });
    return { ...n, problems };
  };
  const scope = scopeDeclaration(set);
  const declared = scope?.spec.clusterNetwork;
  if (scope && declared && (declared.podCIDRs?.length || declared.serviceCIDRs?.length)) {
    return done({
      podCIDRs: parse(declared.podCIDRs ?? [], scope.obj, ['spec', 'clusterNetwork', 'podCIDRs']),
      serviceCIDRs: parse(declared.serviceCIDRs ?? [], scope.obj, ['spec', 'clusterNetwork', 'serviceCIDRs']),
      source: `ScopeDeclaration ${scope.obj.object.metadata.name} spec.clusterNetwork`,
    });
  }
  const kinds = set.objects.filter((o) => o.object.apiVersion === 'kind.x-k8s.io/v1alpha4' && o.object.kind === 'Cluster');
  if (kinds.length) {
    const pod: Cidr[] = [];
    const service: Cidr[] = [];
    for (const k of kinds) {
      const net = ((k.object as { networking?: Record<string, unknown> }).networking ?? {}) as Record<string, unknown>;
      const def = KIND_DEFAULTS[String(net.ipFamily ?? 'ipv4')] ?? (KIND_DEFAULTS.ipv4 as { pod: string; service: string });
      pod.push(...parse(String(net.podSubnet ?? def.pod).split(','), k, ['networking', 'podSubnet']));
      service.push(...parse(String(net.serviceSubnet ?? def.service).split(','), k, ['networking', 'serviceSubnet']));
    }
    const uniq = (l: Cidr[]) => [...new Map(l.map((c) => [`${c.family}/${c.base}/${c.prefix}`, c])).values()];
    return done({ podCIDRs: uniq(pod), serviceCIDRs: uniq(service), source: `kind config ${[...new Set(kinds.map((k) => k.source.file))].join(', ')}` });
  }
  return done({ podCIDRs: parse([KIND_DEFAULTS.ipv4!.pod], undefined, []), serviceCIDRs: parse([KIND_DEFAULTS.ipv4!.service], undefined, []), source: "kind's defaults (no ScopeDeclaration spec.clusterNetwork, no kind config)" });
}

export interface Model {
  endpoints: Endpoint[];
  network: ClusterNetwork;
  external: Endpoint;
  inScope: Set<string>;
  /** Namespace name → labels (the object's labels plus kubernetes.io/metadata.name). */
  namespaceLabels(ns: string): Labels;
  namespaceObject(ns: string): LoadedObject | undefined;
  /** member id (`ns/name`) → endpoint index */
  memberIndex: Map<string, number>;
}

function containerPorts(t: PodTemplate): Port[] {
  const out: Port[] = [];
  for (const kind of ['containers', 'initContainers'] as const) {
    const list = t.spec[kind];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      const ports = (c as { ports?: unknown }).ports;
      if (!Array.isArray(ports)) continue;
      for (const p of ports as Array<Record<string, unknown>>) {
        const port = Number(p.containerPort);
        if (!Number.isInteger(port)) continue;
        out.push({ port, protocol: ((p.protocol as Protocol) ?? 'TCP') as Protocol, ...(typeof p.name === 'string' ? { name: p.name } : {}) });
      }
    }
  }
  return out;
}

const portKey = (p: Port) => `${p.port}/${p.protocol}/${p.name ?? ''}`;

export function buildModel(set: ManifestSet): Model {
  const nsObjects = namespaceObjects(set);
  const inScope = new Set(inScopeNamespaces(set));
  const nsLabelCache = new Map<string, Labels>();
  const namespaceLabels = (ns: string): Labels => {
    let l = nsLabelCache.get(ns);
    if (!l) {
      // The apiserver adds kubernetes.io/metadata.name to every namespace (1.21+); built-ins carry only that label.
      l = { ...(nsObjects.get(ns)?.object.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns };
      nsLabelCache.set(ns, l);
    }
    return l;
  };

  const byKey = new Map<string, Endpoint>();
  const endpoints: Endpoint[] = [];
  const add = (namespace: string, labels: Labels, ports: Port[], member: Member) => {
    const sortedPorts = [...new Map(ports.map((p) => [portKey(p), p])).values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
    const key = `${namespace}\u0000${JSON.stringify(Object.entries(labels).sort())}\u0000${sortedPorts.map(portKey).join(',')}`;
    let e = byKey.get(key);
    if (!e) {
      e = { id: endpoints.length, external: false, namespace, labels, ports: sortedPorts, members: [], inScope: inScope.has(namespace), label: '' };
      byKey.set(key, e);
      endpoints.push(e);
    }
    e.members.push(member);
  };

  for (const t of podTemplates(set)) {
    // hostNetwork pods are outside NetworkPolicy's reach (implementation-defined upstream): not modelled as pods.
    if (t.spec.hostNetwork === true) continue;
    const ports = containerPorts(t);
    add(t.namespace, t.labels, ports.length ? ports : PROBE_PORTS, { kind: 'workload', namespace: t.namespace, name: t.name, template: t });
  }
  add(KUBE_DNS.namespace, KUBE_DNS.labels, KUBE_DNS.ports, { kind: 'kube-dns', namespace: KUBE_DNS.namespace, name: KUBE_DNS.name });
  add(ATTACKER.namespace, ATTACKER.labels, PROBE_PORTS, { kind: 'attacker', namespace: ATTACKER.namespace, name: ATTACKER.name });
  // An unlabelled (compromised or rogue) pod in every namespace the set knows, not only the CDE ones:
  // a peer that selects a whole namespace (ingress, kube-system) must show up as too broad.
  const attackerNamespaces = new Set([...inScope, ...nsObjects.keys(), KUBE_DNS.namespace]);
  for (const ns of attackerNamespaces) add(ns, {}, PROBE_PORTS, { kind: 'attacker', namespace: ns, name: UNLABELLED });
  const external: Endpoint = {
    id: endpoints.length,
    external: true,
    namespace: EXTERNAL_NAMESPACE,
    labels: {},
    ports: PROBE_PORTS,
    members: [{ kind: 'external', namespace: EXTERNAL_NAMESPACE, name: EXTERNAL_IP }],
    inScope: false,
    label: `external:${EXTERNAL_IP}`,
  };
  endpoints.push(external);

  const memberIndex = new Map<string, number>();
  for (const e of endpoints) {
    for (const m of e.members) memberIndex.set(memberId(m), e.id);
    if (!e.external) e.label = memberId(e.members[0] as Member) + (e.members.length > 1 ? ` (+${e.members.length - 1})` : '');
  }
  return { endpoints, network: clusterNetwork(set), external, inScope, namespaceLabels, namespaceObject: (ns) => nsObjects.get(ns), memberIndex };
}
