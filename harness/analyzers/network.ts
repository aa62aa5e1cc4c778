import { at, type Analyzer, type CheckResult } from '../check/types.ts';
import type { LoadedObject, ManifestSet } from '../manifests/types.ts';
import type { FlowTableSpec } from '../spec/types.ts';
import { findSpec, inScopeNamespaces, scopeDeclaration } from './workloads.ts';
import { predictReachability, type HalfVerdict, type Reachability, type RuleRef } from './network/matrix.ts';
import { Bits } from './network/bits.ts';
import { memberId, type Endpoint, type Member, type Port } from './network/model.ts';
import { isEmptySelector } from '../k8s/label-selector.ts';
import type { Policy, Rule } from './network/policy.ts';
import { ipBlockCoverage } from './network/cidr.ts';
import { overPermissionResults } from './network/over-permission.ts';

export { predictReachability } from './network/matrix.ts';
export type { Cell, CellReason, HalfVerdict, Reachability } from './network/matrix.ts';
export { renderMatrix } from './network/render.ts';

/**
 * NetworkPolicy area: (1) default-deny-all in every in-scope namespace (guide
 * defect 8), (2) the predicted reachability matrix equals the FlowTable: every
 * declared flow allowed (both halves, guide defect 9), every other flow
 * touching the CDE denied, (3) policies the apiserver would reject (bad
 * ipBlock, endPort with a named port, ...). Semantics: see network/matrix.ts.
 */
export const networkAnalyzer: Analyzer = {
  area: 'network',
  title: 'NetworkPolicy: default deny and the declared flow table',
  run(set) {
    const m = predictReachability(set);
    return [...validityResults(m), ...defaultDenyResults(set, m), ...reachabilityResults(set, m), ...overPermissionResults(m, findSpec(set, 'FlowTable'))];
  },
};

const DEFAULT_DENY = 'default-deny-all';
const REQ_VALID = '1.2.1';

function validityResults(m: Reachability): CheckResult[] {
  const out: CheckResult[] = m.policyErrors.map((e) =>
    at(
      e.obj,
      {
        check: e.check,
        requirement: REQ_VALID,
        status: 'fail',
        message: `${e.message}; the apiserver rejects this NetworkPolicy, so none of its rules (nor its isolation) exist on the cluster`,
      },
      e.path,
    ),
  );
  for (const p of m.policies)
    out.push(
      at(p.obj, {
        check: 'network.policy-valid',
        requirement: REQ_VALID,
        status: 'pass',
        message: 'the apiserver would accept this NetworkPolicy (selectors, peers, ports and endPort valid), so its rules are in force',
      }),
    );
  const net = m.model.network;
  for (const pr of net.problems) {
    const r: CheckResult = { check: 'network.ipblock', requirement: REQ_VALID, status: 'fail', message: `${pr.message}; fix the ScopeDeclaration spec.clusterNetwork or the kind config` };
    out.push(pr.obj ? at(pr.obj, r, pr.path) : r);
  }
  const nets = [...net.podCIDRs.map((c) => ({ c, what: 'pod' })), ...net.serviceCIDRs.map((c) => ({ c, what: 'Service' }))];
  for (const p of m.policies)
    for (const dir of ['ingress', 'egress'] as const)
      for (const rule of p[dir] ?? [])
        for (const peer of rule.peers ?? []) {
          if (!peer.ipBlock) continue;
          const ib = peer.ipBlock;
          const text = `ipBlock ${ib.cidr.text}${ib.except.length ? ` except ${ib.except.map((c) => c.text).join(', ')}` : ''}`;
          const cover = nets.map((n) => ({ ...n, how: ipBlockCoverage(ib, n.c) })).filter((n) => n.how !== 'none');
          const partial = cover.filter((n) => n.how === 'partial');
          const nw = (l: typeof cover) => l.map((n) => `${n.what} network ${n.c.text}`).join(', ');
          if (partial.length)
            out.push(
              at(p.obj, { check: 'network.ipblock', requirement: REQ_VALID, status: 'fail', message: `${text} holds part of the ${nw(partial)} (${net.source}): which pods it admits depends on the IP each pod is given when scheduled, so the policy cannot be proven; select pods by label, or except the whole cluster network` }, peer.path),
            );
          else
            out.push(
              at(
                p.obj,
                {
                  check: 'network.ipblock',
                  requirement: REQ_VALID,
                  status: 'pass',
                  message: `${text} is valid (every except is a strict subset of cidr)${cover.length ? `; it holds the whole ${nw(cover)} (${net.source}), so it counts as admitting every pod (Calico matches ipBlock on pod IPs; Cilium does not between its own endpoints: the wider reading is the safe one)` : ` and holds no pod or Service address (${net.source})`}`,
                },
                peer.path,
              ),
            );
        }
  return out;
}

function defaultDenyResults(set: ManifestSet, m: Reachability): CheckResult[] {
  const scope = scopeDeclaration(set);
  if (!scope) {
    return [
      {
        check: 'network.default-deny',
        requirement: '1.3.1',
        status: 'fail',
        message: 'no ScopeDeclaration (pci-harness.dev/v1alpha1) in the set: cannot tell which namespaces are in scope; add manifests/spec/scope.yaml',
      },
    ];
  }
  const out: CheckResult[] = [];
  for (const ns of inScopeNamespaces(set)) {
    const anchor = m.model.namespaceObject(ns) ?? scope.obj;
    const policy = m.policies.find((p) => p.namespace === ns && p.name === DEFAULT_DENY);
    const rejected = m.policyErrors.find((e) => e.obj.object.metadata.namespace === ns && e.obj.object.metadata.name === DEFAULT_DENY);
    for (const [dir, requirement] of [
      ['Ingress', '1.3.1'],
      ['Egress', '1.3.2'],
    ] as const) {
      const check = 'network.default-deny';
      if (!policy) {
        const why = rejected ? `NetworkPolicy ${ns}/${DEFAULT_DENY} is invalid (${rejected.message})` : `namespace ${ns} has no NetworkPolicy named ${DEFAULT_DENY}`;
        out.push(at(rejected?.obj ?? anchor, { check, requirement, status: 'fail', message: `${why}: ${dir.toLowerCase()} of in-scope namespace ${ns} is not denied by default; add ${DEFAULT_DENY} with podSelector: {} and policyTypes [Ingress, Egress] and no rules` }));
        continue;
      }
      const problems: string[] = [];
      if (!isEmptySelector(policy.podSelector)) problems.push('podSelector is not {} (it must select every pod)');
      // Egress is only in force if written: policyTypes defaulting drops it when there are no egress rules.
      if (!policy.effectiveTypes.includes(dir)) problems.push(`policyTypes does not list ${dir}${dir === 'Egress' && !policy.writtenTypes ? ' (omitted policyTypes defaults to Ingress only when there are no egress rules)' : ''}`);
      const rules = dir === 'Ingress' ? policy.ingress : policy.egress;
      if (rules && rules.length > 0) problems.push(`it has ${rules.length} ${dir.toLowerCase()} rule(s); a default deny has none`);
      if (problems.length) {
        out.push(at(policy.obj, { check, requirement, status: 'fail', message: `${ns}/${DEFAULT_DENY} does not deny all ${dir.toLowerCase()}: ${problems.join('; ')}` }, ['spec']));
      } else {
        out.push(at(policy.obj, { check, requirement, status: 'pass', message: `${ns}/${DEFAULT_DENY} denies all ${dir.toLowerCase()} by default (podSelector {}, policyTypes ${dir}, no rules)` }));
      }
    }
  }
  return out;
}

const portText = (port: number, protocol: string) => `${port}/${protocol}`;
// Memoised: resolving a YAML line is the slow part when a broad rule admits thousands of cells.
const ruleTexts = new WeakMap<Rule, string>();
const ruleText = (p: Policy, r: Rule): string => {
  let t = ruleTexts.get(r);
  if (t === undefined) {
    t = `NetworkPolicy ${p.namespace}/${p.name} (${r.path.slice(1).join('.')}, ${p.obj.source.file}:${p.obj.lineOf(r.path)})`;
    ruleTexts.set(r, t);
  }
  return t;
};
const ruleAnchors = new WeakMap<Rule, { file?: string; line?: number; object?: string }>();
const ruleAnchor = (p: Policy, r: Rule) => {
  let a = ruleAnchors.get(r);
  if (!a) {
    const { file, line, object } = at(p.obj, { check: '', requirement: '', status: 'fail', message: '' }, r.path);
    a = { ...(file !== undefined ? { file } : {}), ...(line !== undefined ? { line } : {}), ...(object !== undefined ? { object } : {}) };
    ruleAnchors.set(r, a);
  }
  return a;
};
const nsOf = (e: Endpoint) => (e.external ? 'the outside world' : e.namespace);

function reachabilityResults(set: ManifestSet, m: Reachability): CheckResult[] {
  const ft = findSpec(set, 'FlowTable');
  const check = 'network.reachability';
  if (!ft) {
    return [
      {
        check,
        requirement: '1.3.1',
        status: 'fail',
        message: 'no FlowTable (pci-harness.dev/v1alpha1) in the set: the intended flows are undeclared, so no policy can be proven right; add manifests/spec/flows.yaml',
      },
    ];
  }
  const out: CheckResult[] = [];
  const spec = (ft.object.spec ?? {}) as Partial<FlowTableSpec>;
  const flows = Array.isArray(spec.flows) ? spec.flows : [];
  if (flows.length === 0) out.push(at(ft, { check, requirement: '1.3.1', status: 'fail', message: 'FlowTable declares no flows (spec.flows is empty)' }, ['spec']));

  const declared = new Set<string>();
  const declaredFlows: DeclaredFlow[] = [];
  flows.forEach((f, i) => {
    const path = ['spec', 'flows', i];
    const protocol = f.protocol ?? 'TCP';
    const requirement = f.requirement ?? '1.3.1';
    const fromKey = f.from ? memberId({ namespace: f.from.namespace, name: f.from.workload }) : '?';
    const toKey = f.to ? memberId({ namespace: f.to.namespace, name: f.to.workload }) : '?';
    const from = m.model.memberIndex.get(fromKey);
    const to = m.model.memberIndex.get(toKey);
    if (from === undefined || to === undefined) {
      out.push(at(ft, { check, requirement, status: 'fail', message: `FlowTable flow ${fromKey} → ${toKey}:${portText(f.port, protocol)} names ${from === undefined ? fromKey : toKey}, which is no workload in the set (nor kube-system/kube-dns)` }, path));
      return;
    }
    const flowKey = `${fromKey}>${toKey}:${portText(f.port, protocol)}`;
    if (!declared.has(flowKey)) declaredFlows.push({ fromKey, toKey, pk: portText(f.port, protocol) });
    declared.add(flowKey);
    if (fromKey === toKey) return; // pod to itself: always allowed, ignored
    const dst = m.endpoints[to] as Endpoint;
    const src = m.endpoints[from] as Endpoint;
    const declaredPort = dst.ports.find((p) => p.port === f.port && p.protocol === protocol);
    const port: Port = declaredPort ?? { port: f.port, protocol };
    const v = m.explain(from, to, port);
    const flowText = `${fromKey} → ${toKey}:${portText(f.port, protocol)}`;
    if (v.allowed) {
      const by = (h: HalfVerdict, dir: string) => (h.isolated ? h.allowedBy.map((r) => `${r.policy.namespace}/${r.policy.name}`).join(', ') : `no ${dir} isolation`);
      out.push(at(ft, { check, requirement, status: 'pass', message: `declared flow ${flowText} is allowed (egress: ${by(v.egress, 'egress')}; ingress: ${by(v.ingress, 'ingress')})` }, path));
      return;
    }
    const noPort = declaredPort ? '' : ` (note: ${toKey} declares no containerPort ${portText(f.port, protocol)}, so named ports cannot resolve to it)`;
    if (!v.egress.allowed) {
      const p = closest(v.egress.selectedBy, 'egress');
      out.push(at(p.obj, { check, requirement, status: 'fail', message: `declared flow ${flowText} is blocked: ${src.namespace} has no egress rule admitting ${toKey} on ${portText(f.port, protocol)} for ${fromKey} (egress policies selecting it: ${v.egress.selectedBy.map((x) => x.name).join(', ')}); add the egress half${noPort}` }));
    }
    if (!v.ingress.allowed) {
      const p = closest(v.ingress.selectedBy, 'ingress');
      out.push(at(p.obj, { check, requirement, status: 'fail', message: `declared flow ${flowText} is blocked: ${dst.namespace} has no ingress rule admitting ${fromKey} on ${portText(f.port, protocol)} to ${toKey} (ingress policies selecting it: ${v.ingress.selectedBy.map((x) => x.name).join(', ')}); add the ingress half${noPort}` }));
    }
  });

  // Every cell touching the CDE must be denied unless declared, and so must each HALF on the CDE side:
  // an ingress rule into the CDE that admits an undeclared source is too broad even when the source's
  // own egress policy happens to block it today (defence in depth; e.g. an AND peer split into two OR peers).
  const failedInto = new Set<string>();
  const failedOutOf = new Set<string>();
  // Per group only the pairs a message shows (6) and a count: a broad rule admits millions of pod pairs on a large cluster.
  const SHOWN = 6;
  type Group = { result: Omit<CheckResult, 'message'>; head: string; tail: string; pairs: string[]; count: number };
  const groups = new Map<string, Group>();
  const eps = m.endpoints;
  const base = new Int32Array(eps.length);
  let G = 0;
  for (const e of eps) {
    base[e.id] = G;
    G += e.ports.length;
  }
  const cellOf = (s: Endpoint, d: Endpoint, i: number) => s.id * G + (base[d.id] as number) + i;
  const seen = cellSet(eps.length * G);
  // Declared member pairs per cell, counted once, so a cell's undeclared pairs are a subtraction, not a pod × pod loop.
  const declaredInCell = declaredPairsPerCell(eps, declaredFlows, cellOf);
  const firstUndeclared = (s: Endpoint, d: Endpoint, pk: string, need: number): string[] => {
    const out: string[] = [];
    for (const a of s.members)
      for (const b of d.members) {
        if (a === b) continue; // a pod talking to itself is ignored (upstream e2e does the same)
        if (!declared.has(`${memberId(a)}>${memberId(b)}:${pk}`)) {
          out.push(`${memberId(a)} → ${memberId(b)}`);
          if (out.length === need) return out;
        }
      }
    return out;
  };
  // A cell's group depends only on (blamed side, direction, port class, full or half, the admitting rules):
  // memoised on those, so the message text and anchor are built once per group, not once per cell.
  const memo = new Map<number, { inner: Map<number | string, Group>; cands: RuleRef[] | null; peers: Array<{ has(id: number): boolean }> }>();
  const groupFor = (s: Endpoint, d: Endpoint, i: number, full: boolean, dir: 'ingress' | 'egress'): Group => {
    const side = dir === 'ingress' ? d : s;
    const outer = ((side.id * (G + 1) + m.portClass(d.id, i)) * 2 + (dir === 'ingress' ? 1 : 0)) * 2 + (full ? 1 : 0);
    let entry = memo.get(outer);
    if (!entry) {
      const cands = m.candidates(dir, s.id, d.id, i);
      memo.set(outer, (entry = { inner: new Map(), cands, peers: (cands ?? []).map((c) => m.rulePeers(c)) }));
    }
    const { inner, cands, peers } = entry;
    const peer = dir === 'ingress' ? s.id : d.id;
    let key: number | string = -1;
    if (cands) {
      if (cands.length <= 30) {
        key = 0;
        for (let k = 0; k < peers.length; k++) if ((peers[k] as { has(id: number): boolean }).has(peer)) key |= 1 << k;
      } else key = peers.map((b, k) => (b.has(peer) ? k : -1)).filter((k) => k >= 0).join(',');
    }
    const hit = inner.get(key);
    if (hit) return hit;
    const allowedBy = cands ? cands.filter((_, k) => (peers[k] as { has(id: number): boolean }).has(peer)) : [];
    const isolated = cands !== null;
    const port = d.ports[i] as Port;
    const pk = portText(port.port, port.protocol);
    // Full flow: blame the CDE side (inbound → destination ingress, else source egress). Half: blame that half.
    const requirement = dir === 'ingress' ? '1.3.1' : '1.3.2';
    if (dir === 'ingress') failedInto.add(d.namespace);
    else failedOutOf.add(s.namespace);
    const first = allowedBy[0];
    const anchor = first ? { check, requirement, status: 'fail' as const, message: '', ...ruleAnchor(first.policy, first.rule) } : at(anchorFor(side, m, ft), { check, requirement, status: 'fail', message: '' });
    const why = isolated
      ? `${dir} admitted by ${allowedBy.map((r) => ruleText(r.policy, r.rule)).join(' and ')}`
      : `no NetworkPolicy selects ${side.label} for ${dir} in ${nsOf(side)}`;
    const head = full ? `undeclared flow allowed on ${pk}` : `${dir} rule too broad on ${pk} (the flow is blocked today only by the ${dir === 'ingress' ? "source's egress" : "destination's ingress"} policy)`;
    const tail = `${why}; narrow or remove the rule, or declare the flow in the FlowTable if it is intended`;
    const gk = `${full}|${requirement}|${anchor.file}:${anchor.line}|${head}|${tail}`;
    let g = groups.get(gk);
    if (!g) groups.set(gk, (g = { result: anchor, head, tail, pairs: [], count: 0 }));
    inner.set(key, g);
    return g;
  };
  const consider = (s: Endpoint, d: Endpoint, i: number, half: 'ingress' | 'egress') => {
    if (s.external && d.external) return;
    const cell = cellOf(s, d, i);
    if (seen.has(cell)) return;
    const count = s.members.length * d.members.length - (s === d ? s.members.length : 0) - (declaredInCell.get(cell) ?? 0);
    if (count === 0) return;
    seen.add(cell);
    const full = m.allowed(s.id, d.id, i);
    const g = groupFor(s, d, i, full, full ? (d.inScope ? 'ingress' : 'egress') : half);
    if (g.pairs.length < SHOWN) {
      const port = d.ports[i] as Port;
      g.pairs.push(...firstUndeclared(s, d, portText(port.port, port.protocol), SHOWN - g.pairs.length));
    }
    g.count += count;
  };
  for (const d of eps) {
    if (!d.inScope) continue;
    for (let i = 0; i < d.ports.length; i++) for (const s of eps) if (m.ingressAdmits(s.id, d.id, i)) consider(s, d, i, 'ingress');
  }
  for (const s of eps) {
    if (!s.inScope) continue;
    for (const d of eps) for (let i = 0; i < d.ports.length; i++) if (m.egressAdmits(s.id, d.id, i)) consider(s, d, i, 'egress');
  }
  for (const g of groups.values()) {
    const shown = g.pairs.join(', ') + (g.count > SHOWN ? `, and ${g.count - SHOWN} more` : '');
    out.push({ ...g.result, message: `${g.head}: ${shown} (${g.tail})` });
  }

  for (const ns of m.model.inScope) {
    const anchor = m.model.namespaceObject(ns) ?? ft;
    if (!failedInto.has(ns)) out.push(at(anchor, { check, requirement: '1.3.1', status: 'pass', message: `every undeclared flow into ${ns} is denied (sources: all workloads, kube-dns, attacker pods, ${m.model.external.label})` }));
    if (!failedOutOf.has(ns)) out.push(at(anchor, { check, requirement: '1.3.2', status: 'pass', message: `every undeclared flow out of ${ns} is denied (destinations: all workloads, kube-dns, attacker pods, ${m.model.external.label})` }));
  }
  return out;
}

interface DeclaredFlow {
  fromKey: string;
  toKey: string;
  pk: string;
}

/** Cell (source class, destination port) → how many of its member pairs (a pod with itself excluded) the FlowTable declares. */
function declaredPairsPerCell(eps: Endpoint[], flows: DeclaredFlow[], cellOf: (s: Endpoint, d: Endpoint, i: number) => number): Map<number, number> {
  const out = new Map<number, number>();
  if (flows.length === 0) return out;
  const byId = new Map<string, Array<{ e: Endpoint; member: Member }>>();
  for (const e of eps)
    for (const member of e.members) {
      const id = memberId(member);
      const l = byId.get(id) ?? [];
      l.push({ e, member });
      byId.set(id, l);
    }
  for (const f of flows)
    for (const a of byId.get(f.fromKey) ?? [])
      for (const b of byId.get(f.toKey) ?? []) {
        if (a.member === b.member) continue;
        b.e.ports.forEach((p, i) => {
          if (portText(p.port, p.protocol) !== f.pk) return;
          const c = cellOf(a.e, b.e, i);
          out.set(c, (out.get(c) ?? 0) + 1);
        });
      }
  return out;
}

/** A set of cell numbers: a bitmap while it fits in memory comfortably, else a Set. */
function cellSet(size: number): { has(c: number): boolean; add(c: number): void } {
  if (size <= 2 ** 31) {
    const b = new Bits(size);
    return { has: (c) => b.has(c), add: (c) => b.set(c) };
  }
  const s = new Set<number>();
  return { has: (c) => s.has(c), add: (c) => void s.add(c) };
}

/** Where a missing half belongs: a policy that already has rules in that direction for the pod, else the first selecting one. */
function closest(selectedBy: Policy[], dir: 'ingress' | 'egress'): Policy {
  return selectedBy.find((p) => (p[dir]?.length ?? 0) > 0) ?? (selectedBy[0] as Policy);
}

/** The object to point at when nothing selects a pod: its workload, else its namespace. */
function anchorFor(e: Endpoint, m: Reachability, fallback: LoadedObject): LoadedObject {
  const w = e.members.find((x: Member) => x.template)?.template?.owner;
  return w ?? m.model.namespaceObject(e.namespace) ?? fallback;
}
