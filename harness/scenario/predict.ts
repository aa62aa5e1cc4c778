import { parseIp, cidrContainsIp } from '../analyzers/network/cidr.ts';
import { portMatches, type Reachability } from '../analyzers/network/matrix.ts';
import type { Port } from '../analyzers/network/model.ts';
import type { Policy, Rule } from '../analyzers/network/policy.ts';
import { matchesSelector } from '../k8s/label-selector.ts';
import type { FlowTableSpec } from '../spec/types.ts';
import type { DecidingLayer } from './result.ts';

/**
 * Live expectations come from the offline model, never from the scenario
 * author: a cell's predicted verdict, the layer that decides it and the
 * requirement it proves are all read off `network.reachability`'s matrix
 * (harness/analyzers/network/matrix.ts) and `manifests/spec/flows.yaml`.
 */
export interface Prediction {
  predicted: 'allowed' | 'blocked';
  layer: DecidingLayer;
}

const policyName = (p: Policy) => `${p.namespace}/${p.name}`;

/** Does one direction's rule list admit a host (no selector matches a host: a rule with no peers, or an ipBlock holding its IP)? */
function admitsHost(rules: Rule[] | undefined, port: Port, ip: ReturnType<typeof parseIp>): boolean {
  return (rules ?? []).some(
    (rule) =>
      portMatches(rule.ports, port) &&
      (!rule.peers || rule.peers.some((peer) => peer.ipBlock && ip && cidrContainsIp(peer.ipBlock.cidr, ip) && !peer.ipBlock.except.some((x) => cidrContainsIp(x, ip)))),
  );
}

/** Pod → pod (or → the outside world), on any port: both halves, from the same code the offline check runs. */
export function predictPodFlow(reach: Reachability, from: number, to: number, port: Port): Prediction {
  const r = reach.explain(from, to, port);
  if (!r.egress.allowed) return { predicted: 'blocked', layer: { kind: 'networkpolicy-egress', names: r.egress.selectedBy.map(policyName) } };
  if (!r.ingress.allowed) return { predicted: 'blocked', layer: { kind: 'networkpolicy-ingress', names: r.ingress.selectedBy.map(policyName) } };
  const by = [...r.egress.allowedBy, ...r.ingress.allowedBy].map((x) => policyName(x.policy));
  return { predicted: 'allowed', layer: by.length ? { kind: 'networkpolicy', names: [...new Set(by)] } : { kind: 'none' } };
}

/**
 * Pod → a host-network endpoint (API server, kubelet). No pod selector
 * selects a host, so only the source's egress half decides: a rule with no
 * `to`, or an ipBlock holding the host's IP, admits it.
 */
export function predictHostFlow(reach: Reachability, from: number, hostIp: string, port: Port): Prediction {
  const src = reach.endpoints[from];
  if (!src) throw new Error(`no endpoint ${from}`);
  const ip = parseIp(hostIp);
  const selecting = src.external ? [] : reach.policies.filter((p) => p.egress && p.namespace === src.namespace && matchesSelector(p.podSelector, src.labels));
  if (selecting.length === 0) return { predicted: 'allowed', layer: { kind: 'none' } };
  const admitting = selecting.filter((p) => admitsHost(p.egress, port, ip));
  return admitting.length
    ? { predicted: 'allowed', layer: { kind: 'networkpolicy', names: admitting.map(policyName) } }
    : { predicted: 'blocked', layer: { kind: 'networkpolicy-egress', names: selecting.map(policyName) } };
}

/**
 * The requirement a cell proves: its flow's; else the half that decides it —
 * an egress denial out of the CDE is 1.3.2, an ingress denial into it 1.3.1;
 * else 1.3.1 into the CDE, 1.3.2 out of it, 1.2.1 elsewhere.
 */
export function cellRequirement(flows: FlowTableSpec['flows'], from: { memberId: string; inScope: boolean }, to: { memberId: string; inScope: boolean }, port: Port, layer?: DecidingLayer['kind']): string {
  const flow = flows.find(
    (f) => `${f.from.namespace}/${f.from.workload}` === from.memberId && `${f.to.namespace}/${f.to.workload}` === to.memberId && f.port === port.port && (f.protocol ?? 'TCP') === port.protocol,
  );
  if (flow) return flow.requirement;
  if (layer === 'networkpolicy-egress' && from.inScope) return '1.3.2';
  if (layer === 'networkpolicy-ingress' && to.inScope) return '1.3.1';
  if (to.inScope) return '1.3.1';
  if (from.inScope) return '1.3.2';
  return '1.2.1';
}

/**
 * A host-network source (a hostNetwork pod, a node) → a pod. No selector
 * matches a node, so the destination's ingress half alone decides: not
 * isolated, or a rule with no `from` / an ipBlock holding the node's IP. And
 * the API's rule for isolated pods: "the only allowed connections into the
 * pod are those from the pod's node and those allowed by the ingress list".
 */
export function predictFromHost(reach: Reachability, to: number, port: Port, hostIp: string, sameNode: boolean): Prediction {
  const dst = reach.endpoints[to];
  if (!dst) throw new Error(`no endpoint ${to}`);
  const ip = parseIp(hostIp);
  const selecting = reach.policies.filter((p) => p.ingress && p.namespace === dst.namespace && matchesSelector(p.podSelector, dst.labels));
  if (selecting.length === 0) return { predicted: 'allowed', layer: { kind: 'none' } };
  if (sameNode) return { predicted: 'allowed', layer: { kind: 'none', names: ["the pod's own node (always allowed in, by the NetworkPolicy API)"] } };
  const admitting = selecting.filter((p) => admitsHost(p.ingress, port, ip));
  return admitting.length
    ? { predicted: 'allowed', layer: { kind: 'networkpolicy', names: admitting.map(policyName) } }
    : { predicted: 'blocked', layer: { kind: 'networkpolicy-ingress', names: selecting.map(policyName) } };
}
