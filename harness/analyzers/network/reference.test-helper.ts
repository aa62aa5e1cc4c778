import type { Reachability } from './matrix.ts';
import { cidrContainsIp, ipBlockCoverage } from './cidr.ts';
import { EXTERNAL_IP_PARSED, type Endpoint, type Port } from './model.ts';
import type { Peer, Policy, PolicyPort, Rule } from './policy.ts';
import { matchesSelector } from '../../k8s/label-selector.ts';

/**
 * The naive reference engine: the NetworkPolicy semantics written out cell by
 * cell, rule by rule, with no classes of policies, no caches and no bitsets,
 * so the fast engine (matrix.ts) can be compared with it. It shares only the
 * parsed model (endpoints, policies, cluster network) and the label selector.
 */
function portAdmits(ports: PolicyPort[] | undefined, p: Port): boolean {
  if (ports === undefined) return true;
  for (const rp of ports) {
    if (rp.protocol !== p.protocol) continue;
    if (rp.port === undefined) return true;
    if (typeof rp.port === 'string') {
      if (rp.port === p.name) return true;
      continue;
    }
    const end = rp.endPort ?? rp.port;
    if (p.port >= rp.port && p.port <= end) return true;
  }
  return false;
}

function peerHolds(m: Reachability, peer: Peer, policy: Policy, e: Endpoint): boolean {
  if (peer.ipBlock) {
    const ib = peer.ipBlock;
    if (e.external) return cidrContainsIp(ib.cidr, EXTERNAL_IP_PARSED) && !ib.except.some((x) => cidrContainsIp(x, EXTERNAL_IP_PARSED));
    return [...m.model.network.podCIDRs, ...m.model.network.serviceCIDRs].some((net) => ipBlockCoverage(ib, net) !== 'none');
  }
  if (e.external) return false;
  const nsOk = peer.namespaceSelector ? matchesSelector(peer.namespaceSelector, m.model.namespaceLabels(e.namespace)) : e.namespace === policy.namespace;
  return nsOk && (peer.podSelector === undefined || matchesSelector(peer.podSelector, e.labels));
}

function ruleHolds(m: Reachability, rule: Rule, policy: Policy, peer: Endpoint, port: Port): boolean {
  if (!portAdmits(rule.ports, port)) return false;
  return rule.peers === undefined || rule.peers.some((p) => peerHolds(m, p, policy, peer));
}

/** One half: is `self` isolated in `dir`, and if so does some rule admit `peer` on `port` (port of the destination)? */
function halfAdmits(m: Reachability, dir: 'ingress' | 'egress', self: Endpoint, peer: Endpoint, port: Port): boolean {
  if (self.external) return true; // the outside world is selected by no policy
  let isolated = false;
  for (const p of m.policies) {
    if (p.namespace !== self.namespace || !matchesSelector(p.podSelector, self.labels)) continue;
    const rules = p[dir];
    if (rules === undefined) continue;
    isolated = true;
    if (rules.some((r) => ruleHolds(m, r, p, peer, port))) return true;
  }
  return !isolated;
}

export function referenceIngress(m: Reachability, from: number, to: number, portIndex: number): boolean {
  const d = m.endpoints[to] as Endpoint;
  return halfAdmits(m, 'ingress', d, m.endpoints[from] as Endpoint, d.ports[portIndex] as Port);
}

export function referenceEgress(m: Reachability, from: number, to: number, portIndex: number): boolean {
  const d = m.endpoints[to] as Endpoint;
  return halfAdmits(m, 'egress', m.endpoints[from] as Endpoint, d, d.ports[portIndex] as Port);
}

/** Every cell where the fast engine and the reference disagree (either half or the full verdict), as readable lines. */
export function disagreements(m: Reachability, limit = 20): { cells: number; diffs: string[] } {
  const diffs: string[] = [];
  let cells = 0;
  for (const s of m.endpoints)
    for (const d of m.endpoints) {
      if (s.external && d.external) continue;
      for (let i = 0; i < d.ports.length; i++) {
        cells++;
        const ing = referenceIngress(m, s.id, d.id, i);
        const eg = referenceEgress(m, s.id, d.id, i);
        const got = [m.ingressAdmits(s.id, d.id, i), m.egressAdmits(s.id, d.id, i), m.allowed(s.id, d.id, i)];
        const want = [ing, eg, ing && eg];
        if (got.some((g, k) => g !== want[k]) && diffs.length < limit)
          diffs.push(`${s.label} → ${d.label}:${(d.ports[i] as Port).port}: engine [ingress, egress, allowed] ${got.join(',')}, reference ${want.join(',')}`);
      }
    }
  return { cells, diffs };
}
