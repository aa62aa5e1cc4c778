import { predictReachability } from '../../analyzers/network/matrix.ts';
import { memberId, type Member } from '../../analyzers/network/model.ts';
import type { ManifestSet } from '../../manifests/types.ts';
import type { FlowTableSpec } from '../types.ts';

type Flow = FlowTableSpec['flows'][number];

export const OBSERVED = 'observed in policy, confirm';

/** Ends a FlowTable can name: workloads of the set and cluster DNS (not the model's attacker pods or the outside world). */
const declarable = (m: Member) => m.kind === 'workload' || m.kind === 'kube-dns';

/**
 * Every flow the set's NetworkPolicies allow today that touches an in-scope
 * namespace, as the network analyzer predicts it (both halves). `set` must
 * hold the (draft) ScopeDeclaration: it decides what is in scope. A flow
 * into the CDE from outside it is 1.3.1, every other 1.3.2. Each says which
 * policies allow it, and that a person must confirm it is intended.
 */
export function draftFlows(set: ManifestSet): Flow[] {
  const m = predictReachability(set);
  const out = new Map<string, Flow>();
  for (const cell of m.allowedCells()) {
    if (!cell.from.inScope && !cell.to.inScope) continue;
    const froms = cell.from.members.filter(declarable);
    const tos = cell.to.members.filter(declarable);
    if (!froms.length || !tos.length) continue;
    const by = (h: typeof cell.reason.egress, dir: string) =>
      h.isolated ? [...new Set(h.allowedBy.map((r) => `${r.policy.namespace}/${r.policy.name}`))].join(', ') : `no ${dir} isolation`;
    const why = `${OBSERVED}: egress ${by(cell.reason.egress, 'egress')}; ingress ${by(cell.reason.ingress, 'ingress')}`;
    const requirement = cell.to.inScope && !cell.from.inScope ? '1.3.1' : '1.3.2';
    for (const a of froms)
      for (const b of tos) {
        if (a === b) continue;
        const key = `${memberId(a)}>${memberId(b)}:${cell.port}/${cell.protocol}`;
        if (out.has(key)) continue;
        out.set(key, {
          from: { namespace: a.namespace, workload: a.name },
          to: { namespace: b.namespace, workload: b.name },
          port: cell.port,
          protocol: cell.protocol as Flow['protocol'] & string,
          requirement,
          why,
        });
      }
  }
  return [...out.values()].sort(
    (x, y) =>
      `${x.from.namespace}/${x.from.workload}`.localeCompare(`${y.from.namespace}/${y.from.workload}`) ||
      `${x.to.namespace}/${x.to.workload}`.localeCompare(`${y.to.namespace}/${y.to.workload}`) ||
      x.port - y.port ||
      (x.protocol ?? '').localeCompare(y.protocol ?? ''),
  );
}
