import { parseAllDocuments } from 'yaml';
import { at, type Analyzer, type CheckResult } from '../check/types.ts';
import type { LoadedObject, ManifestSet } from '../manifests/types.ts';
import type { ScopeDeclarationSpec } from '../spec/types.ts';
import { getIn, inScopeNamespaces, podTemplates, scopeDeclaration, type Json, type PodTemplate } from './workloads.ts';

/**
 * CDE node pool isolation (PCI DSS v4.0 2.2.3: primary functions with
 * different security levels are separated): CDE workloads run only on the
 * dedicated, tainted CDE nodes, and nothing else tolerates that taint.
 * Toleration and node-affinity semantics follow k8s.io/api core/v1
 * (Toleration.ToleratesTaint) and the scheduler's NodeAffinity plugin.
 */
const REQ = '2.2.3';
const CHECK = 'node-pool.isolation';
type Taint = ScopeDeclarationSpec['cdeNodes']['taint'];

/** core/v1 toleration.go ToleratesTaint. */
export function toleratesTaint(tol: Json, taint: Taint): boolean {
  const effect = tol.effect === undefined ? '' : String(tol.effect);
  const key = tol.key === undefined ? '' : String(tol.key);
  if (effect !== '' && effect !== taint.effect) return false;
  if (key !== '' && key !== taint.key) return false;
  const op = tol.operator === undefined ? '' : String(tol.operator);
  if (op === '' || op === 'Equal') return String(tol.value ?? '') === taint.value;
  return op === 'Exists';
}

/** Empty key with operator Exists tolerates every taint on every node (control plane included). */
export const isWildcardToleration = (tol: Json) => (tol.key === undefined || tol.key === '') && tol.operator === 'Exists';

/**
 * Is the pod guaranteed to land on nodes carrying every CDE label? nodeSelector
 * pairs, or a required node affinity whose EVERY term (terms are ORed) pins
 * each label with `In` to exactly that value.
 */
export function selectsNodes(spec: Json, label: Record<string, string>): { ok: boolean; how: string } {
  const pairs = Object.entries(label);
  if (pairs.length === 0) return { ok: false, how: 'the ScopeDeclaration has no CDE node label' };
  const ns = (spec.nodeSelector ?? {}) as Record<string, unknown>;
  if (pairs.every(([k, v]) => String(ns[k]) === v && k in ns)) return { ok: true, how: 'nodeSelector' };
  const terms = getIn(spec, ['affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms']);
  if (Array.isArray(terms) && terms.length > 0) {
    const pins = (term: Json) =>
      pairs.every(([k, v]) =>
        (Array.isArray(term.matchExpressions) ? (term.matchExpressions as Json[]) : []).some(
          (e) => e.key === k && e.operator === 'In' && Array.isArray(e.values) && e.values.length > 0 && e.values.every((x) => String(x) === v),
        ),
      );
    if (terms.every((t) => pins((t ?? {}) as Json))) return { ok: true, how: 'required node affinity' };
  }
  return { ok: false, how: '' };
}

export const nodePoolAnalyzer: Analyzer = {
  area: 'node-pool',
  title: 'CDE node pool: CDE workloads only on tainted CDE nodes',
  run(set) {
    const scope = scopeDeclaration(set);
    if (!scope?.spec.cdeNodes?.taint) {
      return [{ check: CHECK, requirement: REQ, status: 'fail', message: 'no ScopeDeclaration with cdeNodes.label and cdeNodes.taint in the set: CDE node isolation cannot be proven; add manifests/spec/scope.yaml' }];
    }
    const { label, taint } = scope.spec.cdeNodes;
    const inScope = new Set(inScopeNamespaces(set));
    return [...podTemplates(set).flatMap((t) => workloadResults(t, inScope.has(t.namespace), label ?? {}, taint)), ...kindResults(set, label ?? {}, taint)];
  },
};

const taintText = (t: Taint) => `${t.key}=${t.value}:${t.effect}`;

function workloadResults(t: PodTemplate, cde: boolean, label: Record<string, string>, taint: Taint): CheckResult[] {
  const id = `${t.kind} ${t.namespace}/${t.name}`;
  const tols = Array.isArray(t.spec.tolerations) ? (t.spec.tolerations as Json[]) : [];
  const out: CheckResult[] = [];
  const fail = (message: string, path: (string | number)[]) => out.push(at(t.owner, { check: CHECK, requirement: REQ, status: 'fail', message }, path));
  tols.forEach((tol, i) => {
    if (isWildcardToleration(tol ?? {}))
      fail(`${id} tolerates every taint (toleration with empty key and operator Exists)${cde ? ', including control-plane taints' : `, including the CDE taint ${taintText(taint)}`}; tolerate only the taints it needs`, [...t.specPath, 'tolerations', i]);
  });
  const tolerating = tols.findIndex((tol) => toleratesTaint(tol ?? {}, taint));
  if (cde) {
    const sel = selectsNodes(t.spec, label);
    if (tolerating < 0) fail(`${id} is in scope but does not tolerate the CDE taint ${taintText(taint)}: it cannot run on CDE nodes`, [...t.specPath, 'tolerations']);
    if (!sel.ok)
      fail(`${id} is in scope but does not select CDE nodes (${Object.entries(label).map(([k, v]) => `${k}=${v}`).join(', ')}) by nodeSelector or required node affinity: it may run next to out-of-scope workloads`, [...t.specPath, 'nodeSelector']);
    if (out.length === 0) out.push(at(t.owner, { check: CHECK, requirement: REQ, status: 'pass', message: `${id} runs only on CDE nodes (tolerates ${taintText(taint)}, selected by ${sel.how})` }));
  } else {
    const specific = tols.findIndex((tol) => !isWildcardToleration(tol ?? {}) && toleratesTaint(tol ?? {}, taint));
    if (specific >= 0)
      fail(`${id} is out of scope but tolerates the CDE taint ${taintText(taint)}: it may be scheduled onto CDE nodes; remove the toleration`, [...t.specPath, 'tolerations', specific]);
    if (out.length === 0) out.push(at(t.owner, { check: CHECK, requirement: REQ, status: 'pass', message: `${id} is out of scope and cannot be scheduled onto CDE nodes (does not tolerate ${taintText(taint)})` }));
  }
  return out;
}

interface NodeMarks {
  labels: Record<string, string>;
  taints: Taint[];
}

/** Labels and taints a kind node gets: `labels:` plus JoinConfiguration/InitConfiguration nodeRegistration in kubeadmConfigPatches. */
export function kindNodeMarks(node: Json): NodeMarks {
  const labels: Record<string, string> = {};
  const taints: Taint[] = [];
  for (const [k, v] of Object.entries((node.labels ?? {}) as Record<string, unknown>)) labels[k] = String(v);
  const addLabels = (s: unknown) => {
    for (const kv of String(s ?? '').split(',')) {
      const [k, v] = kv.split('=');
      if (k) labels[k.trim()] = (v ?? '').trim();
    }
  };
  for (const patch of Array.isArray(node.kubeadmConfigPatches) ? node.kubeadmConfigPatches : []) {
    for (const doc of parseAllDocuments(String(patch))) {
      const p = doc.toJS() as Json | null;
      if (!p || (p.kind !== 'JoinConfiguration' && p.kind !== 'InitConfiguration')) continue;
      const reg = (p.nodeRegistration ?? {}) as Json;
      for (const t of Array.isArray(reg.taints) ? (reg.taints as Json[]) : []) taints.push({ key: String(t.key), value: String(t.value ?? ''), effect: t.effect as Taint['effect'] });
      const args = reg.kubeletExtraArgs;
      // kubeadm v1beta3: map; v1beta4: list of {name, value}
      const arg = (name: string): unknown =>
        Array.isArray(args) ? (args as Json[]).find((a) => a.name === name)?.value : (args as Json | undefined)?.[name];
      addLabels(arg('node-labels'));
      for (const rt of String(arg('register-with-taints') ?? '').split(',').filter(Boolean)) {
        const m = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(rt.trim());
        if (m) taints.push({ key: m[1] as string, value: m[2] ?? '', effect: m[3] as Taint['effect'] });
      }
    }
  }
  return { labels, taints };
}

function kindResults(set: ManifestSet, label: Record<string, string>, taint: Taint): CheckResult[] {
  const clusters = set.objects.filter((o: LoadedObject) => o.object.apiVersion === 'kind.x-k8s.io/v1alpha4' && o.object.kind === 'Cluster');
  return clusters.map((c) => {
    const nodes = Array.isArray(c.object.nodes) ? (c.object.nodes as Json[]) : [];
    const idx = nodes.findIndex((n) => {
      if ((n ?? {}).role !== 'worker') return false;
      const marks = kindNodeMarks(n);
      return Object.entries(label).every(([k, v]) => marks.labels[k] === v) && marks.taints.some((t) => t.key === taint.key && t.value === taint.value && t.effect === taint.effect);
    });
    return idx >= 0
      ? at(c, { check: CHECK, requirement: REQ, status: 'pass', message: `kind cluster ${c.source.file} has a CDE worker (node ${idx}) labelled ${Object.entries(label).map(([k, v]) => `${k}=${v}`).join(',')} and tainted ${taintText(taint)}` }, ['nodes', idx])
      : at(c, { check: CHECK, requirement: REQ, status: 'fail', message: `kind cluster ${c.source.file} has no worker both labelled ${Object.entries(label).map(([k, v]) => `${k}=${v}`).join(',')} and tainted ${taintText(taint)}: CDE workloads have no dedicated node; add one (kubeadmConfigPatches JoinConfiguration nodeRegistration.taints and node-labels)` }, ['nodes']);
  });
}
