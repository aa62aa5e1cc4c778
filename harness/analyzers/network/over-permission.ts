import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject } from '../../manifests/types.ts';
import type { FlowTableSpec } from '../../spec/types.ts';
import { matchesSelector, selectorText, type LabelSelector } from '../../k8s/label-selector.ts';
import { ipBlockCoverage } from './cidr.ts';
import type { Reachability } from './matrix.ts';
import { memberId, type Endpoint, type Port } from './model.ts';
import type { Peer, Policy, Rule } from './policy.ts';

/**
 * `netpol.over-permission`: every rule of a NetworkPolicy in a CDE namespace
 * admits no more than the flows it serves in the FlowTable: no port range,
 * "all ports" or port beyond the declared ones, no peer wider than the
 * declared counterparts (no `from`/`to`, an ipBlock, a whole namespace, a
 * namespace chosen by a mutable label, a selector that matches no declared
 * workload). network.reachability proves the matrix over the pods and ports
 * that exist today; this proves the rules, so a debug port opened or a pod
 * labelled alike next month is not reachable either. Ingress rules into the
 * CDE report 1.3.1, egress rules out of it 1.3.2.
 *
 * Not `network.`: the live lane replays every `network.*` mutant on the
 * cluster and requires its probe matrix to observe it, and over-permission on
 * ports and pods nobody uses is, by definition, what a probe cannot observe.
 */
export const OVER_PERMISSION = 'netpol.over-permission';

const NAME_LABEL = 'kubernetes.io/metadata.name';
type Flow = FlowTableSpec['flows'][number];

interface Served {
  flow: Flow;
  /** The other end: the source of an ingress rule, the destination of an egress rule. */
  counterpart: Endpoint;
  port: Port;
}

/** The namespaces a namespaceSelector pins by the immutable kubernetes.io/metadata.name label, or undefined when it does not. */
function pinnedNamespaces(sel: LabelSelector): string[] | undefined {
  const byLabel = sel.matchLabels?.[NAME_LABEL];
  const byExpr = (sel.matchExpressions ?? []).filter((e) => e.key === NAME_LABEL && e.operator === 'In').map((e) => (e.values ?? []).map(String));
  if (byLabel === undefined && byExpr.length === 0) return undefined;
  let names: string[] | undefined = byLabel === undefined ? undefined : [String(byLabel)];
  for (const v of byExpr) names = names ? names.filter((n) => v.includes(n)) : v;
  return names ?? [];
}

function peerText(p: Peer): string {
  if (p.ipBlock) return `ipBlock ${p.ipBlock.cidr.text}${p.ipBlock.except.length ? ` except ${p.ipBlock.except.map((c) => c.text).join(', ')}` : ''}`;
  return [p.namespaceSelector ? `namespaceSelector ${selectorText(p.namespaceSelector)}` : '', p.podSelector ? `podSelector ${selectorText(p.podSelector)}` : ''].filter(Boolean).join(' AND ');
}

export function overPermissionResults(m: Reachability, ft: LoadedObject | undefined): CheckResult[] {
  if (!ft) return []; // network.reachability already fails: no FlowTable
  const flows = (((ft.object.spec ?? {}) as Partial<FlowTableSpec>).flows ?? []).filter((f) => f?.from && f?.to);
  const out: CheckResult[] = [];
  const failed = new Set<string>();
  const nets = [...m.model.network.podCIDRs, ...m.model.network.serviceCIDRs];

  const peerMatches = (peer: Peer, policy: Policy, e: Endpoint): boolean => {
    if (peer.ipBlock || e.external) return false;
    const nsOk = peer.namespaceSelector ? matchesSelector(peer.namespaceSelector, m.model.namespaceLabels(e.namespace)) : e.namespace === policy.namespace;
    return nsOk && (!peer.podSelector || matchesSelector(peer.podSelector, e.labels));
  };

  const byNamespace = new Map<string, Endpoint[]>();
  for (const e of m.endpoints) {
    if (e.external) continue;
    const l = byNamespace.get(e.namespace);
    if (l) l.push(e);
    else byNamespace.set(e.namespace, [e]);
  }
  for (const p of m.policies) {
    if (!m.model.inScope.has(p.namespace)) continue;
    const selected = (byNamespace.get(p.namespace) ?? []).filter((e) => matchesSelector(p.podSelector, e.labels));
    const local = new Set(selected.flatMap((e) => e.members.map(memberId)));
    for (const dir of ['ingress', 'egress'] as const) {
      const requirement = dir === 'ingress' ? '1.3.1' : '1.3.2';
      const other = dir === 'ingress' ? 'source' : 'destination';
      (p[dir] ?? []).forEach((rule: Rule) => {
        // The declared flows this rule admits (its half of them).
        const served: Served[] = [];
        for (const f of flows) {
          const fromId = memberId({ namespace: f.from.namespace, name: f.from.workload });
          const toId = memberId({ namespace: f.to.namespace, name: f.to.workload });
          if (!local.has(dir === 'ingress' ? toId : fromId)) continue;
          const from = m.model.memberIndex.get(fromId);
          const to = m.model.memberIndex.get(toId);
          if (from === undefined || to === undefined) continue;
          const dst = m.endpoints[to] as Endpoint;
          const protocol = f.protocol ?? 'TCP';
          const port: Port = dst.ports.find((x) => x.port === f.port && x.protocol === protocol) ?? { port: f.port, protocol };
          if (m.explain(from, to, port)[dir].allowedBy.some((r) => r.rule === rule)) served.push({ flow: f, counterpart: m.endpoints[dir === 'ingress' ? from : to] as Endpoint, port });
        }
        const problems: string[] = [];
        if (served.length === 0) problems.push('it serves no declared flow');
        // Peers.
        if (!rule.peers) problems.push(`it has no \`${dir === 'ingress' ? 'from' : 'to'}\`: every ${other}, the outside world included`);
        for (const peer of rule.peers ?? []) {
          if (peer.ipBlock) {
            const pods = nets.some((n) => ipBlockCoverage(peer.ipBlock as NonNullable<Peer['ipBlock']>, n) !== 'none');
            problems.push(`peer ${peerText(peer)}: the flow table declares no ${other} by address${pods ? ' (and it holds pod or Service addresses: every pod counts as admitted)' : ''}`);
            continue;
          }
          const mine = served.filter((s) => peerMatches(peer, p, s.counterpart));
          if (mine.length === 0) {
            problems.push(`peer ${peerText(peer)} matches no declared ${other} of this rule: it admits pods that are not there yet`);
            continue;
          }
          if (!peer.podSelector || (Object.keys(peer.podSelector.matchLabels ?? {}).length === 0 && (peer.podSelector.matchExpressions ?? []).length === 0))
            problems.push(`peer ${peerText(peer)} admits every pod of ${peer.namespaceSelector ? 'the namespaces it selects' : `namespace ${p.namespace}`}, not only the declared ${other}s (${[...new Set(mine.map((s) => s.counterpart.label))].join(', ')})`);
          if (peer.namespaceSelector) {
            const pinned = pinnedNamespaces(peer.namespaceSelector);
            const needed = new Set(mine.map((s) => s.counterpart.namespace));
            if (!pinned) problems.push(`peer ${peerText(peer)} chooses namespaces by labels other than ${NAME_LABEL}: any namespace given those labels later is admitted (pin ${[...needed].join(', ')} by ${NAME_LABEL})`);
            else {
              const extra = pinned.filter((n) => !needed.has(n));
              if (extra.length) problems.push(`peer ${peerText(peer)} admits namespace(s) ${extra.join(', ')}, where no declared ${other} of this rule runs`);
            }
          }
        }
        // Ports.
        const servedPorts = new Set(served.map((s) => `${s.port.port}/${s.port.protocol}`));
        if (!rule.ports) problems.push('it has no `ports`: every port of every protocol');
        for (const pp of rule.ports ?? []) {
          if (pp.port === undefined) problems.push(`port entry ${pp.protocol} without a port: every ${pp.protocol} port`);
          else if (typeof pp.port === 'string') {
            const name = pp.port;
            const resolved = [...new Set(served.filter((s) => s.port.name === name && s.port.protocol === pp.protocol).map((s) => `${s.port.port}/${s.port.protocol}`))];
            if (resolved.length === 0) problems.push(`port ${name}/${pp.protocol} serves no declared flow`);
          } else if (pp.endPort !== undefined && pp.endPort > pp.port) {
            const declared = [...servedPorts].filter((k) => k.endsWith(`/${pp.protocol}`)).map((k) => Number(k.split('/')[0])).filter((n) => n >= (pp.port as number) && n <= (pp.endPort as number));
            const extra = pp.endPort - pp.port + 1 - new Set(declared).size;
            if (extra > 0) problems.push(`port range ${pp.port}-${pp.endPort}/${pp.protocol} admits ${extra} port(s) no declared flow uses${declared.length ? ` (declared: ${[...new Set(declared)].join(', ')})` : ''}`);
          } else if (!servedPorts.has(`${pp.port}/${pp.protocol}`)) problems.push(`port ${pp.port}/${pp.protocol} serves no declared flow`);
        }
        if (problems.length === 0) return;
        failed.add(`${p.namespace}|${dir}`);
        out.push(
          at(
            p.obj,
            {
              check: OVER_PERMISSION,
              requirement,
              status: 'fail',
              message: `${dir} rule ${rule.path.slice(1).join('.')} of ${p.namespace}/${p.name} admits more than the FlowTable declares: ${problems.join('; ')}. No pod may use the extra today, but a port opened or a pod labelled alike tomorrow would be reachable: narrow the rule to the declared flows, or declare the flow`,
            },
            rule.path,
          ),
        );
      });
    }
  }
  for (const ns of m.model.inScope) {
    const anchor = m.model.namespaceObject(ns) ?? ft;
    if (!failed.has(`${ns}|ingress`)) out.push(at(anchor, { check: OVER_PERMISSION, requirement: '1.3.1', status: 'pass', message: `every ingress rule in ${ns} admits exactly the declared flows' sources and ports (no port range, no all-ports, no peer wider than the FlowTable)` }));
    if (!failed.has(`${ns}|egress`)) out.push(at(anchor, { check: OVER_PERMISSION, requirement: '1.3.2', status: 'pass', message: `every egress rule in ${ns} admits exactly the declared flows' destinations and ports (no port range, no all-ports, no peer wider than the FlowTable)` }));
  }
  return out;
}
