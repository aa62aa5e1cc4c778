import type { ManifestSet } from '../../manifests/types.ts';
import { Bits } from './bits.ts';
import { cidrContainsIp, ipBlockCoverage } from './cidr.ts';
import { buildModel, EXTERNAL_IP_PARSED, type Endpoint, type Model, type Port } from './model.ts';
import { parsePolicy, type Peer, type Policy, type PolicyError, type PolicyPort, type Rule } from './policy.ts';
import { matchesSelector } from '../../k8s/label-selector.ts';

/**
 * The predicted reachability matrix, computed the way policy-assistant
 * (sigs.k8s.io/network-policy-api/policy-assistant) and the netpol e2e
 * "truth table" do: a flow S → D:port is allowed iff S's egress allows it AND
 * D's ingress allows it. Per direction, a pod is isolated iff at least one
 * policy selects it for that direction; then the union (policies are
 * additive) of the matching rules decides.
 *
 * Computed over equivalence classes (Endpoint) with bitsets, so thousands of
 * pods and policies stay fast: ingress verdicts are one bitset of sources per
 * (destination, port); egress verdicts one bitset of (destination, port) per
 * distinct set of egress policies.
 */

export interface RuleRef {
  policy: Policy;
  rule: Rule;
  direction: 'ingress' | 'egress';
}

export interface HalfVerdict {
  /** Some policy selects the pod for this direction. */
  isolated: boolean;
  /** The policies that select it for this direction. */
  selectedBy: Policy[];
  /** Rules that admit this flow (empty when denied or not isolated). */
  allowedBy: RuleRef[];
  allowed: boolean;
}

export interface CellReason {
  egress: HalfVerdict;
  ingress: HalfVerdict;
}

export interface Cell {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: string;
  portName?: string;
  allowed: boolean;
  /** Which policies allowed or denied each half (computed on first access). */
  readonly reason: CellReason;
}

export interface Reachability {
  model: Model;
  endpoints: Endpoint[];
  policies: Policy[];
  /** Policies the apiserver would reject: they are NOT part of the model. */
  policyErrors: PolicyError[];
  /** Fast verdict for endpoint `from` → port `portIndex` of endpoint `to`. */
  allowed(from: number, to: number, portIndex: number): boolean;
  /** One half alone: does the destination's ingress admit this source? (ignores the source's egress) */
  ingressAdmits(from: number, to: number, portIndex: number): boolean;
  /** One half alone: does the source's egress admit this destination port? (ignores the destination's ingress) */
  egressAdmits(from: number, to: number, portIndex: number): boolean;
  /**
   * The rules that may admit this half before peers are looked at: the rules of the policies selecting
   * the isolated side (the destination for ingress, the source for egress), in policy then rule order,
   * whose ports admit destination port `portIndex`; null when that side is not isolated. With
   * ruleAdmits this gives explain()'s allowedBy for one half without building a CellReason per cell.
   */
  candidates(direction: 'ingress' | 'egress', from: number, to: number, portIndex: number): RuleRef[] | null;
  /** Do the rule's peers hold this endpoint (the source for ingress, the destination for egress)? */
  ruleAdmits(ref: RuleRef, peer: number): boolean;
  /** The endpoints the rule's peers hold, as a set to test many endpoints against. */
  rulePeers(ref: RuleRef): { has(id: number): boolean };
  /** A small integer per distinct (port, protocol, name) of destination ports: equal ports get equal verdicts. */
  portClass(to: number, portIndex: number): number;
  /** Full explanation for any port (also ports a workload does not declare). */
  explain(from: number, to: number, port: Port): CellReason & { allowed: boolean };
  /** Every cell (pod classes × destination ports); the outside world never talks to itself. Lazy: the matrix can be large. */
  cells(): Generator<Cell>;
  /** Only the allowed cells: what a compliance check needs to enumerate. */
  allowedCells(): Cell[];
  cellCount: number;
}

/** Does a rule's port list admit this destination port? Named ports resolve on the destination's containerPorts. */
export function portMatches(ports: PolicyPort[] | undefined, p: Port): boolean {
  if (!ports) return true;
  return ports.some((rp) => {
    if (rp.protocol !== p.protocol) return false;
    if (rp.port === undefined) return true;
    if (typeof rp.port === 'string') return p.name === rp.port; // unresolvable name matches nothing
    if (rp.endPort !== undefined) return p.port >= rp.port && p.port <= rp.endPort;
    return p.port === rp.port;
  });
}

/**
 * How the CNI reads what the NetworkPolicy API leaves implementation-defined.
 * `ipBlockSelectsPods` (default true, Calico's reading and the offline lane's:
 * the wider one, the safe direction for proving denials): whether an ipBlock
 * that holds pod or Service addresses admits pods. Cilium: false (its CIDR
 * rules do not apply between Cilium-managed endpoints; observed live).
 */
export interface CniSemantics {
  ipBlockSelectsPods?: boolean;
}

export function predictReachability(set: ManifestSet, semantics: CniSemantics = {}): Reachability {
  const model = buildModel(set);
  const { endpoints } = model;
  const n = endpoints.length;

  const policies: Policy[] = [];
  const policyErrors: PolicyError[] = [];
  for (const lo of set.objects) {
    if (lo.object.kind !== 'NetworkPolicy' || lo.object.apiVersion !== 'networking.k8s.io/v1') continue;
    const { policy, errors } = parsePolicy(lo, policies.length);
    policyErrors.push(...errors);
    if (policy) policies.push(policy);
  }

  const byNamespace = new Map<string, Endpoint[]>();
  for (const e of endpoints) {
    if (e.external) continue;
    const l = byNamespace.get(e.namespace) ?? [];
    l.push(e);
    byNamespace.set(e.namespace, l);
  }

  // Which policies select each endpoint, per direction.
  const ingressPols: number[][] = endpoints.map(() => []);
  const egressPols: number[][] = endpoints.map(() => []);
  for (const p of policies) {
    for (const e of byNamespace.get(p.namespace) ?? []) {
      if (!matchesSelector(p.podSelector, e.labels)) continue;
      if (p.ingress) (ingressPols[e.id] as number[]).push(p.index);
      if (p.egress) (egressPols[e.id] as number[]).push(p.index);
    }
  }

  const clusterNets = [...model.network.podCIDRs, ...model.network.serviceCIDRs];
  const ipBlockHoldsPods = (ib: NonNullable<Peer['ipBlock']>) => clusterNets.some((net) => ipBlockCoverage(ib, net) !== 'none');
  // Peer → endpoints it matches (cached by meaning: many policies share peers).
  const peerCache = new Map<string, Bits>();
  const peerBits = (peer: Peer, policy: Policy): Bits => {
    const key = JSON.stringify([peer.namespaceSelector ? '' : policy.namespace, peer.namespaceSelector, peer.podSelector, peer.ipBlock && [peer.ipBlock.cidr.text, peer.ipBlock.except.map((c) => c.text)]]);
    let b = peerCache.get(key);
    if (b) return b;
    b = new Bits(n);
    if (peer.ipBlock) {
      // ipBlock holds the outside world when it holds EXTERNAL_IP. It holds pods too when it holds any
      // address of the pod or Service network: the API leaves it implementation-defined whether ipBlock
      // sees pod IPs (docs: "cluster ingress and egress mechanisms often require rewriting packet
      // source/dest IPs"). Calico matches pod IPs (observed live: egress 0.0.0.0/0 reaches pods); Cilium
      // documents that its CIDR rules do not apply between Cilium-managed endpoints. Counting every pod as
      // admitted when any pod address may be held (Calico's reading, the wider one) is the safe direction
      // for a tool that proves denials (see docs/upstream-fidelity.md, "NetworkPolicy").
      const { cidr, except } = peer.ipBlock;
      if (cidrContainsIp(cidr, EXTERNAL_IP_PARSED) && !except.some((x) => cidrContainsIp(x, EXTERNAL_IP_PARSED))) b.set(model.external.id);
      if (semantics.ipBlockSelectsPods !== false && ipBlockHoldsPods(peer.ipBlock)) for (const e of endpoints) if (!e.external) b.set(e.id);
    } else {
      const namespaces = peer.namespaceSelector
        ? [...byNamespace.keys()].filter((ns) => matchesSelector(peer.namespaceSelector as NonNullable<Peer['namespaceSelector']>, model.namespaceLabels(ns)))
        : [policy.namespace];
      for (const ns of namespaces)
        for (const e of byNamespace.get(ns) ?? []) if (!peer.podSelector || matchesSelector(peer.podSelector, e.labels)) b.set(e.id);
    }
    peerCache.set(key, b);
    return b;
  };
  const ALL = new Bits(n, true);
  const ruleCache = new Map<Rule, Bits>();
  const ruleBits = (rule: Rule, policy: Policy): Bits => {
    if (!rule.peers) return ALL; // no from/to: every source/destination, external included
    let b = ruleCache.get(rule);
    if (!b) {
      b = new Bits(n);
      for (const peer of rule.peers) b.orWith(peerBits(peer, policy));
      ruleCache.set(rule, b);
    }
    return b;
  };

  // Flatten destination ports: g = portBase[D] + portIndex.
  const portBase = new Int32Array(n);
  const pb = (id: number): number => portBase[id] as number;
  let G = 0;
  for (const e of endpoints) {
    portBase[e.id] = G;
    G += e.ports.length;
  }
  const gEndpoint = new Int32Array(G);
  const gPort = new Int32Array(G);
  for (const e of endpoints) e.ports.forEach((_, i) => ((gEndpoint[pb(e.id) + i] = e.id), (gPort[pb(e.id) + i] = i)));

  // Destination ports by distinct (port, protocol, name): whether a rule's ports admit one is decided once per class.
  const portClassOf = new Int32Array(G);
  const portClasses = new Map<string, number>();
  const classPorts: Port[] = [];
  for (const e of endpoints)
    e.ports.forEach((p, i) => {
      const k = `${p.port}/${p.protocol}/${p.name ?? ''}`;
      let c = portClasses.get(k);
      if (c === undefined) {
        portClasses.set(k, (c = portClasses.size));
        classPorts.push(p);
      }
      portClassOf[pb(e.id) + i] = c;
    });
  // Ingress: per (D, port), the sources admitted (null = D not isolated for ingress).
  const ingressAllowed: (Bits | null)[] = new Array(G).fill(null);
  const ingressCache = new Map<string, Bits>();
  for (const d of endpoints) {
    const pols = ingressPols[d.id] as number[];
    if (pols.length === 0) continue;
    d.ports.forEach((port, i) => {
      const key = `${pols.join(',')}|${port.port}/${port.protocol}/${port.name ?? ''}`;
      let b = ingressCache.get(key);
      if (!b) {
        b = new Bits(n);
        for (const pi of pols) {
          const p = policies[pi] as Policy;
          for (const rule of p.ingress ?? []) if (portMatches(rule.ports, port)) b.orWith(ruleBits(rule, p));
        }
        ingressCache.set(key, b);
      }
      ingressAllowed[pb(d.id) + i] = b;
    });
  }

  // Egress: per distinct egress-policy set, the (D, port) cells admitted (null = not isolated for egress).
  const egressAllowed: (Bits | null)[] = new Array(n).fill(null);
  const egressCache = new Map<string, Bits>();
  for (const s of endpoints) {
    const pols = egressPols[s.id] as number[];
    if (pols.length === 0) continue;
    const key = pols.join(',');
    let b = egressCache.get(key);
    if (!b) {
      b = new Bits(G);
      for (const pi of pols) {
        const p = policies[pi] as Policy;
        for (const rule of p.egress ?? []) {
          const admits = classPorts.map((port) => portMatches(rule.ports, port));
          const into = b;
          ruleBits(rule, p).forEach(n, (d) => {
            const first = pb(d);
            const last = first + (endpoints[d] as Endpoint).ports.length;
            for (let g = first; g < last; g++) if (admits[portClassOf[g] as number]) into.set(g);
          });
        }
      }
      egressCache.set(key, b);
    }
    egressAllowed[s.id] = b;
  }

  const allowedG = (s: number, g: number): boolean => {
    const e = egressAllowed[s];
    if (e && !e.has(g)) return false;
    const i = ingressAllowed[g];
    return !i || i.has(s);
  };

  const half = (selected: number[], direction: 'ingress' | 'egress', peer: Endpoint, dest: Endpoint, port: Port): HalfVerdict => {
    const selectedBy = selected.map((i) => policies[i] as Policy);
    const allowedBy: RuleRef[] = [];
    for (const p of selectedBy)
      for (const rule of p[direction] ?? []) if (portMatches(rule.ports, port) && ruleBits(rule, p).has(peer.id)) allowedBy.push({ policy: p, rule, direction });
    const isolated = selectedBy.length > 0;
    return { isolated, selectedBy, allowedBy, allowed: !isolated || allowedBy.length > 0 };
  };
  const explain = (from: number, to: number, port: Port) => {
    const s = endpoints[from] as Endpoint;
    const d = endpoints[to] as Endpoint;
    const egress = half(egressPols[from] as number[], 'egress', d, d, port);
    const ingress = half(ingressPols[to] as number[], 'ingress', s, d, port);
    return { egress, ingress, allowed: egress.allowed && ingress.allowed };
  };

  const makeCell = (s: Endpoint, d: Endpoint, i: number, allowed: boolean): Cell => {
    const port = d.ports[i] as Port;
    let reason: CellReason | undefined;
    return {
      from: s,
      to: d,
      port: port.port,
      protocol: port.protocol,
      ...(port.name ? { portName: port.name } : {}),
      allowed,
      get reason() {
        reason ??= explain(s.id, d.id, port);
        return reason;
      },
    };
  };

  const P = Math.max(portClasses.size, 1);
  const candidateCache = new Map<number, RuleRef[] | null>();
  const candidates = (direction: 'ingress' | 'egress', from: number, to: number, i: number): RuleRef[] | null => {
    const self = direction === 'ingress' ? to : from;
    const key = (self * P + (portClassOf[pb(to) + i] as number)) * 2 + (direction === 'ingress' ? 1 : 0);
    let c = candidateCache.get(key);
    if (c !== undefined) return c;
    const pols = (direction === 'ingress' ? ingressPols : egressPols)[self] as number[];
    if (pols.length === 0) c = null;
    else {
      const port = (endpoints[to] as Endpoint).ports[i] as Port;
      c = [];
      for (const pi of pols) {
        const p = policies[pi] as Policy;
        for (const rule of p[direction] ?? []) if (portMatches(rule.ports, port)) c.push({ policy: p, rule, direction });
      }
    }
    candidateCache.set(key, c);
    return c;
  };

  let cellCount = 0;
  for (const s of endpoints) for (const d of endpoints) if (!(s.external && d.external)) cellCount += d.ports.length;

  return {
    model,
    endpoints,
    policies,
    policyErrors,
    cellCount,
    allowed: (from, to, i) => allowedG(from, pb(to) + i),
    ingressAdmits: (from, to, i) => {
      const b = ingressAllowed[pb(to) + i];
      return !b || b.has(from);
    },
    egressAdmits: (from, to, i) => {
      const b = egressAllowed[from];
      return !b || b.has(pb(to) + i);
    },
    candidates,
    ruleAdmits: (ref, peer) => ruleBits(ref.rule, ref.policy).has(peer),
    rulePeers: (ref) => ruleBits(ref.rule, ref.policy),
    portClass: (to, i) => portClassOf[pb(to) + i] as number,
    explain,
    *cells() {
      for (const s of endpoints)
        for (const d of endpoints) {
          if (s.external && d.external) continue;
          for (let i = 0; i < d.ports.length; i++) yield makeCell(s, d, i, allowedG(s.id, pb(d.id) + i));
        }
    },
    allowedCells() {
      const out: Cell[] = [];
      for (const s of endpoints) {
        const e = egressAllowed[s.id];
        const gs: Iterable<number> = e ? e.each(G) : Array.from({ length: G }, (_, g) => g);
        for (const g of gs) {
          const d = endpoints[gEndpoint[g] as number] as Endpoint;
          if (s.external && d.external) continue;
          const ing = ingressAllowed[g];
          if (!ing || ing.has(s.id)) out.push(makeCell(s, d, gPort[g] as number, true));
        }
      }
      return out;
    },
  };
}
