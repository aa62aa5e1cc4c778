import type { LoadedObject } from '../../manifests/types.ts';
import { parseCidr, isStrictSubset, type Cidr } from './cidr.ts';
import { validateSelector, type LabelSelector } from '../../k8s/label-selector.ts';

/**
 * A NetworkPolicy (networking.k8s.io/v1) read from YAML, normalised the way the
 * apiserver would default and validate it. References: Kubernetes docs
 * "Network Policies"; k8s.io/kubernetes pkg/apis/networking/v1 defaults.go
 * (policyTypes defaulting, protocol TCP) and pkg/apis/networking/validation.
 */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Peer {
  /** Path of this peer inside the policy document (for file:line). */
  path: (string | number)[];
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: Cidr; except: Cidr[] };
}

export interface PolicyPort {
  protocol: Protocol;
  /** undefined = every port of that protocol; string = named port. */
  port?: number | string;
  endPort?: number;
}

export interface Rule {
  path: (string | number)[];
  /** undefined = no from/to: every peer, including external addresses. */
  peers?: Peer[];
  /** undefined = no ports: every port and protocol. */
  ports?: PolicyPort[];
}

export interface Policy {
  obj: LoadedObject;
  index: number;
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  /** undefined = the policy does not affect this direction. [] = isolates and allows nothing. */
  ingress?: Rule[];
  egress?: Rule[];
  /** policyTypes as written (undefined when omitted) and as defaulted. */
  writtenTypes?: string[];
  effectiveTypes: string[];
}

export interface PolicyError {
  obj: LoadedObject;
  path: (string | number)[];
  check: 'network.ipblock' | 'network.policy-valid';
  message: string;
}

// IsValidPortName: ≤ 15 of [-a-z0-9], at least one letter, no "--", no hyphen at either end.
const IANA_SVC_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Normalise one policy. Returns the policy, or undefined plus errors when the
 * apiserver would reject it (then it does not exist on the cluster: its
 * isolation does not happen either — modelled faithfully by dropping it).
 */
export function parsePolicy(lo: LoadedObject, index: number): { policy?: Policy; errors: PolicyError[] } {
  const errors: PolicyError[] = [];
  const err = (path: (string | number)[], message: string, check: PolicyError['check'] = 'network.policy-valid') =>
    errors.push({ obj: lo, path, check, message });
  const spec = obj(lo.object.spec) ?? {};
  // networking/v1 (1.34): podSelector is optional; omitted (or null) it is the empty selector: every pod in the namespace.
  const podSelector = spec.podSelector ?? {};
  const selErr = validateSelector(podSelector);
  if (selErr) err(['spec', 'podSelector'], `spec.podSelector: ${selErr}`);

  const rules = (dir: 'ingress' | 'egress'): Rule[] => {
    const list = spec[dir];
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) {
      err(['spec', dir], `spec.${dir} must be a list`);
      return [];
    }
    const peerKey = dir === 'ingress' ? 'from' : 'to';
    return list.map((r, i): Rule => {
      const rp = ['spec', dir, i];
      const rule = obj(r) ?? {};
      const out: Rule = { path: rp };
      const peers = rule[peerKey];
      // An empty from/to list means the same as an absent one: all peers (API docs: "If this field is empty or missing, this rule matches all sources").
      if (Array.isArray(peers) && peers.length > 0) out.peers = peers.map((p, j) => parsePeer(p, [...rp, peerKey, j], err));
      const ports = rule.ports;
      if (Array.isArray(ports) && ports.length > 0) out.ports = ports.map((p, j) => parsePort(p, [...rp, 'ports', j], err));
      return out;
    });
  };

  const ingressRules = rules('ingress');
  const egressRules = rules('egress');
  let writtenTypes: string[] | undefined;
  let effectiveTypes: string[];
  if (Array.isArray(spec.policyTypes) && spec.policyTypes.length > 0) {
    writtenTypes = spec.policyTypes.map(String);
    if (writtenTypes.length > 2) err(['spec', 'policyTypes'], `policyTypes may not list more than two types (it lists ${writtenTypes.length})`);
    else for (const [i, t] of writtenTypes.entries()) if (t !== 'Ingress' && t !== 'Egress') err(['spec', 'policyTypes', i], `policyTypes entry "${t}" is not Ingress or Egress`);
    effectiveTypes = writtenTypes;
  } else {
    // Defaulting (networking/v1 SetDefaults_NetworkPolicy): Ingress always; Egress only if egress rules exist.
    effectiveTypes = ['Ingress', ...(egressRules.length > 0 ? ['Egress'] : [])];
  }
  if (errors.length > 0) return { errors };
  const policy: Policy = {
    obj: lo,
    index,
    namespace: lo.object.metadata.namespace ?? 'default',
    name: lo.object.metadata.name,
    podSelector: podSelector as LabelSelector,
    effectiveTypes,
    ...(writtenTypes ? { writtenTypes } : {}),
    ...(effectiveTypes.includes('Ingress') ? { ingress: ingressRules } : {}),
    ...(effectiveTypes.includes('Egress') ? { egress: egressRules } : {}),
  };
  return { policy, errors };
}

function parsePeer(p: unknown, path: (string | number)[], err: (path: (string | number)[], m: string, c?: PolicyError['check']) => void): Peer {
  const peer = obj(p) ?? {};
  const out: Peer = { path };
  // null is what an omitted pointer decodes to: absent.
  const hasSel = peer.podSelector != null || peer.namespaceSelector != null;
  if (peer.ipBlock != null) {
    if (hasSel) err(path, 'a peer may set ipBlock OR selectors, not both');
    const ib = obj(peer.ipBlock) ?? {};
    const cidr = typeof ib.cidr === 'string' ? parseCidr(ib.cidr) : undefined;
    if (!cidr) err([...path, 'ipBlock', 'cidr'], `ipBlock.cidr "${String(ib.cidr)}" is not a valid CIDR`, 'network.ipblock');
    const except: Cidr[] = [];
    (Array.isArray(ib.except) ? ib.except : []).forEach((e, k) => {
      const c = typeof e === 'string' ? parseCidr(e) : undefined;
      if (!c) err([...path, 'ipBlock', 'except', k], `ipBlock.except "${String(e)}" is not a valid CIDR`, 'network.ipblock');
      else if (cidr && !isStrictSubset(c, cidr))
        err([...path, 'ipBlock', 'except', k], `ipBlock.except ${String(e)} is not a strict subset of cidr ${cidr.text}`, 'network.ipblock');
      else except.push(c);
    });
    if (cidr) out.ipBlock = { cidr, except };
    return out;
  }
  if (!hasSel) err(path, 'a peer must set podSelector, namespaceSelector or ipBlock');
  for (const k of ['podSelector', 'namespaceSelector'] as const) {
    if (peer[k] == null) continue;
    const e = validateSelector(peer[k]);
    if (e) err([...path, k], `${path.slice(1).join('.')}.${k}: ${e}`);
    else out[k] = peer[k] as LabelSelector;
  }
  return out;
}

function parsePort(p: unknown, path: (string | number)[], err: (path: (string | number)[], m: string) => void): PolicyPort {
  const port = obj(p) ?? {};
  const protocol = (port.protocol ?? 'TCP') as Protocol; // defaults.go: protocol defaults to TCP
  if (!['TCP', 'UDP', 'SCTP'].includes(protocol)) err([...path, 'protocol'], `protocol "${String(port.protocol)}" must be TCP, UDP or SCTP`);
  const out: PolicyPort = { protocol };
  if (port.port !== undefined && port.port !== null) {
    if (typeof port.port === 'number') {
      if (!Number.isInteger(port.port) || port.port < 1 || port.port > 65535) err([...path, 'port'], `port ${port.port} is out of range 1-65535`);
      out.port = port.port;
    } else {
      const name = String(port.port);
      // intstr from YAML: a quoted number is a string, i.e. a (bad) port name.
      if (!IANA_SVC_NAME.test(name) || name.length > 15) err([...path, 'port'], `port "${name}" is not a valid port name (IANA_SVC_NAME); write a number unquoted`);
      out.port = name;
    }
  }
  if (port.endPort !== undefined && port.endPort !== null) {
    const end = Number(port.endPort);
    if (typeof out.port !== 'number') err([...path, 'endPort'], 'endPort may only be set with a numeric port');
    else if (!Number.isInteger(end) || end < out.port || end > 65535) err([...path, 'endPort'], `endPort ${String(port.endPort)} must be >= port ${out.port} and <= 65535`);
    out.endPort = end;
  }
  return out;
}
