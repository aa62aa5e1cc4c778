import { ATTACKER, EXTERNAL_IP, memberId, PROBE_PORTS, UNLABELLED } from '../analyzers/network/model.ts';
import type { ScenarioContext } from './context.ts';
import { UNDECLARED_PORTS } from './matrix.ts';
import { compromised, outsider, outsideWorld, unlabelled, type Position } from './positions.ts';

/**
 * Where an attack starts, as a scenario names it:
 *   adversary.compromised('cde-frontend/payment-api')   code execution in a workload
 *   adversary.outsider()                                 a pod in default (the model's attacker)
 *   adversary.unlabelled('cde-storage')                  a rogue pod inside a namespace
 *   adversary.outsideWorld()                             a host on the internet
 * Each one is a member of the offline model, so its predictions exist.
 */
export type AdversarySpec =
  | { kind: 'compromised'; workload: string }
  | { kind: 'outsider' }
  | { kind: 'unlabelled'; namespace: string }
  | { kind: 'outside-world' };

export const adversary = {
  compromised: (workload: string): AdversarySpec => ({ kind: 'compromised', workload }),
  outsider: (): AdversarySpec => ({ kind: 'outsider' }),
  unlabelled: (namespace: string): AdversarySpec => ({ kind: 'unlabelled', namespace }),
  outsideWorld: (): AdversarySpec => ({ kind: 'outside-world' }),
};

export function adversaryMemberId(spec: AdversarySpec): string {
  switch (spec.kind) {
    case 'compromised':
      return spec.workload;
    case 'outsider':
      return `${ATTACKER.namespace}/${ATTACKER.name}`;
    case 'unlabelled':
      return `${spec.namespace}/${UNLABELLED}`;
    case 'outside-world':
      return `external:${EXTERNAL_IP}`;
  }
}

/** Start the position (a pod, or the outside-world container). Dispose it when done. */
export async function place(ctx: ScenarioContext, spec: AdversarySpec): Promise<Position> {
  const id = adversaryMemberId(spec);
  const endpoint = ctx.endpointOf(id);
  switch (spec.kind) {
    case 'compromised': {
      const template = ctx.member(id).template;
      if (!template) throw new Error(`${id} is not a workload with a pod template`);
      return compromised(ctx.cluster, template, UNDECLARED_PORTS);
    }
    case 'outsider':
      return outsider(ctx.cluster, ATTACKER.namespace, ATTACKER.name, ATTACKER.labels, PROBE_PORTS);
    case 'unlabelled':
      return unlabelled(ctx.cluster, spec.namespace, UNLABELLED, PROBE_PORTS, endpoint.inScope);
    case 'outside-world':
      return outsideWorld(ctx.cluster, { memberId: id, network: ctx.cluster.name, routes: await podRoutes(ctx), serves: PROBE_PORTS });
  }
}

/**
 * Routes from the outside world to the pods: each node's Calico IPAM blocks
 * via that node, as a router in front of the cluster would have them (one
 * route for the whole pod subnet would enter through one node and be
 * forwarded over the tunnel, where reverse-path filtering drops it). Without
 * Calico's block affinities (Cilium's IPAM mode kubernetes): each node's
 * spec.podCIDR via that node. Without either: the model's pod network via a worker.
 */
async function podRoutes(ctx: ScenarioContext): Promise<Array<{ cidr: string; via: string }>> {
  const r = await ctx.cluster.kubectl(['get', 'blockaffinities.crd.projectcalico.org', '-o', 'json'], { reject: false });
  const nodeIp = new Map(ctx.topology.nodes.map((n) => [n.name, n.ip]));
  if (r.exitCode === 0) {
    const items = (JSON.parse(r.stdout) as { items: Array<{ spec: { node: string; cidr: string; state?: string } }> }).items;
    const routes = items.filter((i) => i.spec.state !== 'pendingDeletion' && nodeIp.has(i.spec.node)).map((i) => ({ cidr: i.spec.cidr, via: nodeIp.get(i.spec.node) as string }));
    if (routes.length) return routes;
  }
  const cidrs = await ctx.cluster.kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}{" "}{.spec.podCIDR}{"\\n"}{end}'], { reject: false });
  const perNode = cidrs.stdout.split('\n').map((l) => l.trim().split(' ')).filter(([n, c]) => c && nodeIp.has(n!)).map(([n, c]) => ({ cidr: c!, via: nodeIp.get(n!) as string }));
  if (cidrs.exitCode === 0 && perNode.length) return perNode;
  const via = ctx.topology.nodes.find((n) => !n.cde && !n.controlPlane) ?? ctx.topology.nodes[0];
  if (!via) throw new Error('no node to route the outside world through');
  // The pod network the model uses (ScopeDeclaration clusterNetwork, else the kind config).
  return ctx.reach.model.network.podCIDRs.map((c) => ({ cidr: c.text, via: via.ip }));
}

/** Every source the model knows: each workload compromised, the outsider, an unlabelled pod in each namespace, the outside world. */
export function everyAdversary(ctx: ScenarioContext): AdversarySpec[] {
  const out: AdversarySpec[] = [];
  for (const e of ctx.reach.endpoints) {
    for (const m of e.members) {
      if (m.kind === 'workload') out.push(adversary.compromised(memberId(m)));
      else if (m.kind === 'attacker' && m.name === UNLABELLED) out.push(adversary.unlabelled(m.namespace));
      else if (m.kind === 'attacker') out.push(adversary.outsider());
      else if (m.kind === 'external') out.push(adversary.outsideWorld());
    }
  }
  return out;
}

/** Start many positions at once; if one fails, the started ones are removed before the error surfaces. */
export async function placeAll(ctx: ScenarioContext, specs: readonly AdversarySpec[]): Promise<Position[]> {
  const settled = await Promise.allSettled(specs.map((s) => place(ctx, s)));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((p) => p.dispose()));
    throw failed.reason;
  }
  return started;
}
