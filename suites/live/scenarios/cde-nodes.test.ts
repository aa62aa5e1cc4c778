import { liveManifestsDir } from '../../../harness/scenario/context.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cdeNamespaces, specDocuments } from '../../../harness/analyzers/rbac/scope.ts';
import { REPO_ROOT } from '../../../harness/cluster/paths.ts';
import { deletePod, harnessPod } from '../../../harness/cluster/pods.ts';
import type { Cluster } from '../../../harness/cluster/provider.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import { loadManifestDir } from '../../../harness/manifests/load.ts';
import { collectDiagnostics } from '../../../harness/scenario/diagnostics.ts';
import { tenantIdentity, type ActingIdentity } from '../../../harness/scenario/identities.ts';
import { readAdmission } from '../../../harness/scenario/unsafe-deploys.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import type { ScopeDeclarationSpec } from '../../../harness/spec/types.ts';
import { explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';

/**
 * CDE node isolation (2.2.3), observed on the running cluster: CDE
 * workloads run only on CDE nodes (the live pods' nodeName vs the node
 * labels of manifests/spec/scope.yaml), every CDE node carries the CDE taint,
 * and a pod from outside the CDE never lands on a CDE node:
 *   - one that only selects the CDE label (no toleration): the taint must
 *     keep it Pending (the scheduler refuses);
 *   - one that ALSO adds the CDE toleration, or tolerates every taint, or asks
 *     for the CDE nodes by node affinity: made by a tenant (its own client
 *     certificate, allowed to run pods in `default` and the set's other non-CDE namespaces (shipped: `ingress`), nothing
 *     else) — the set claims admission refuses it (cde-node-isolation,
 *     manifests/cluster/33-kyverno-cde-node-isolation.yaml); that it never runs
 *     on a CDE node is checked too. (This was finding 2.2.3: before that policy
 *     such a pod was admitted and scheduled onto the CDE node.)
 * Node agents (DaemonSet pods in kube-system: CNI, kube-proxy) run on every
 * node by design; they are listed in the evidence, not counted as workloads.
 */
const SCENARIO = 'cde-nodes';
const nonce = randomBytes(2).toString('hex');
const set = loadManifestDir(liveManifestsDir());
const CDE = cdeNamespaces(set);
const scope = specDocuments(set, 'ScopeDeclaration')[0]!.object.spec as ScopeDeclarationSpec;
const LABEL = scope.cdeNodes.label;
const TAINT = scope.cdeNodes.taint;
const TOLERATION = { key: TAINT.key, operator: 'Equal', value: TAINT.value, effect: TAINT.effect };

interface NodeJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { taints?: Array<{ key: string; value?: string; effect: string }> };
}
interface PodJson {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string }>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

let cluster: Cluster;
let tenant: ActingIdentity;
// Where a tenant lives: default and every namespace of the set outside the CDE.
const TENANT_NAMESPACES = ['default', ...set.objects.filter((o) => o.object.kind === 'Namespace' && !CDE.has(o.object.metadata.name)).map((o) => o.object.metadata.name).sort()];
let cdeNodes: string[] = [];
let nodes: NodeJson[] = [];
const created: Array<{ ns: string; name: string }> = [];
const k = () => `kubectl --kubeconfig ${cluster.kubeconfigPath}`;
const isCdeNode = (n: NodeJson) => Object.entries(LABEL).every(([key, v]) => n.metadata.labels?.[key] === v);
const isNodeAgent = (p: PodJson) => p.metadata.namespace === 'kube-system' && p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet');
/**
 * The harness's own instruments, pinned to the CDE node on purpose by other
 * live files (the enforcement canary in pci-canary-*, host-network positions
 * `pos-*`, this file's probes) — listed in the evidence, not counted as
 * workloads. (That they CAN land there is the toleration test below.)
 */
const isInstrument = (p: PodJson & { metadata: { labels?: Record<string, string> } }) =>
  p.metadata.namespace.startsWith('pci-canary-') || p.metadata.labels?.['app.kubernetes.io/managed-by'] === 'pci-harness' || (!CDE.has(p.metadata.namespace) && p.metadata.name.startsWith('pos-'));

const base = (requirement = '2.2.3') => ({ lane: 'live' as const, check: 'live.node-pool.isolation' as const, requirement, scenario: SCENARIO });

async function diagnose(reason: string, pods: Array<{ namespace: string; name: string }> = []): Promise<string> {
  const files = await collectDiagnostics(cluster, { reason: `${SCENARIO} ${reason}`, pods, namespaces: [...CDE, ...TENANT_NAMESPACES] });
  return files.length ? `\ndiagnostics: ${files[0]!.replace(/\/[^/]*$/, '')}` : '';
}

beforeAll(async () => {
  try {
    cluster = sharedCluster();
    nodes = (JSON.parse((await cluster.kubectl(['get', 'nodes', '-o', 'json'])).stdout) as { items: NodeJson[] }).items;
    cdeNodes = nodes.filter(isCdeNode).map((n) => n.metadata.name);
    tenant = await tenantIdentity(cluster, `tenant-${nonce}`, TENANT_NAMESPACES);
  } catch (e) {
    throw new Error(`INCONCLUSIVE: ${SCENARIO} set-up failed: ${redactCredentials((e as Error).message)}`);
  }
});

afterAll(async () => {
  for (const p of created) await deletePod(cluster, p.ns, p.name);
  await tenant?.[Symbol.asyncDispose]();
});

/**
 * Create an out-of-CDE pod that asks for a CDE node; follow it until the
 * scheduler places it or says it cannot (FailedScheduling / PodScheduled
 * False with reason Unschedulable), at most `timeoutMs`.
 */
async function tryToLand(ns: string, name: string, tolerate: boolean, timeoutMs = 20_000, o: { asTenant?: boolean; placement?: Record<string, unknown> } = {}) {
  const pod = harnessPod({ namespace: ns, name, image: cluster.images.cdeServerImage, args: ['--listen', '8080'], ...(o.placement ? {} : { nodeSelector: { ...LABEL } }), ...(tolerate ? { tolerations: [TOLERATION] } : {}) });
  if (o.placement) Object.assign(pod.spec as Record<string, unknown>, o.placement);
  const yaml = stringify(pod);
  const r = o.asTenant ? await tenant.kubectl(['create', '-f', '-'], { input: yaml, reject: false }) : await cluster.kubectl(['create', '-f', '-'], { input: yaml, reject: false });
  const replay = o.asTenant ? `${tenant.replay(`create -f - <<'EOF'\n${yaml}EOF`)}\n${k()} get pod ${name} -n ${ns} -o wide` : `${k()} create -f - <<'EOF'\n${yaml}EOF\n${k()} get pod ${name} -n ${ns} -o wide`;
  if (r.exitCode !== 0) {
    const text = redactCredentials(`${r.stderr}`.trim());
    return { admitted: false, text, node: undefined as string | undefined, unschedulable: undefined as string | undefined, replay };
  }
  created.push({ ns, name });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = JSON.parse((await cluster.kubectl(['get', 'pod', name, '-n', ns, '-o', 'json'])).stdout) as PodJson;
    const sched = p.status.conditions?.find((c) => c.type === 'PodScheduled');
    if (p.spec.nodeName) return { admitted: true, text: r.stdout.trim(), node: p.spec.nodeName, unschedulable: undefined, replay };
    if (sched?.status === 'False' && sched.reason === 'Unschedulable') return { admitted: true, text: r.stdout.trim(), node: undefined, unschedulable: sched.message ?? 'Unschedulable', replay };
    if (Date.now() > deadline) return { admitted: true, text: r.stdout.trim(), node: undefined, unschedulable: `still unscheduled after ${timeoutMs / 1000}s (no scheduler verdict)`, replay };
    await new Promise((res) => setTimeout(res, 500));
  }
}

describe('CDE node isolation (2.2.3): CDE workloads only on CDE nodes, nothing else on them', () => {
  it(`the CDE node pool exists (label ${JSON.stringify(LABEL)}) and every CDE node carries the taint ${TAINT.key}=${TAINT.value}:${TAINT.effect}`, () => {
    const untainted = nodes.filter(isCdeNode).filter((n) => !n.spec.taints?.some((t) => t.key === TAINT.key && (t.value ?? '') === TAINT.value && t.effect === TAINT.effect));
    const r: LiveResult = {
      ...base(),
      status: cdeNodes.length && !untainted.length ? 'pass' : 'fail',
      adversary: 'none (node pool configuration)',
      action: 'read the nodes, their labels and taints',
      predicted: 'rejected',
      observed: cdeNodes.length && !untainted.length ? 'rejected' : 'admitted',
      layer: { kind: 'scheduler', names: cdeNodes },
      message: cdeNodes.length ? `${cdeNodes.length} CDE node(s) (${cdeNodes.join(', ')}); untainted: ${untainted.map((n) => n.metadata.name).join(', ') || 'none'}` : 'no node carries the CDE label',
      evidence: nodes.map((n) => `${n.metadata.name}: cde=${isCdeNode(n)} taints=${JSON.stringify(n.spec.taints ?? [])}`).join('; '),
      replay: `${k()} get nodes -L ${Object.keys(LABEL).join(',')} -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints`,
      ...(cdeNodes.length && !untainted.length ? {} : { finding: cdeNodes.length ? `CDE node(s) without the CDE taint: ${untainted.map((n) => n.metadata.name).join(', ')} (anything may be scheduled there)` : 'no CDE node pool: CDE workloads share nodes with everything else' }),
    };
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });

  it('every pod of a CDE namespace runs on a CDE node; no pod from outside the CDE does (node agents aside)', async () => {
    const pods = (JSON.parse((await cluster.kubectl(['get', 'pods', '-A', '-o', 'json'])).stdout) as { items: PodJson[] }).items.filter((p) => p.spec.nodeName && !p.metadata.deletionTimestamp);
    const cdePods = pods.filter((p) => CDE.has(p.metadata.namespace));
    const misplaced = cdePods.filter((p) => !cdeNodes.includes(p.spec.nodeName!));
    const intruders = pods.filter((p) => !CDE.has(p.metadata.namespace) && cdeNodes.includes(p.spec.nodeName!) && !isNodeAgent(p) && !isInstrument(p));
    const agents = pods.filter((p) => cdeNodes.includes(p.spec.nodeName!) && isNodeAgent(p));
    const instruments = pods.filter((p) => !CDE.has(p.metadata.namespace) && cdeNodes.includes(p.spec.nodeName!) && isInstrument(p));
    const id = (p: PodJson) => `${p.metadata.namespace}/${p.metadata.name}@${p.spec.nodeName}`;
    const results: LiveResult[] = [
      {
        ...base(),
        status: cdePods.length && !misplaced.length ? 'pass' : 'fail',
        adversary: 'none (placement of the running CDE workloads)',
        action: `compare the nodeName of every pod in ${[...CDE].sort().join(', ')} with the CDE node labels`,
        predicted: 'admitted',
        observed: misplaced.length ? 'rejected' : 'admitted',
        layer: { kind: 'scheduler', names: ['nodeSelector + toleration of the CDE Deployments'] },
        message: misplaced.length ? `CDE pods outside the CDE node pool: ${misplaced.map(id).join(', ')}` : `all ${cdePods.length} CDE pods run on CDE nodes`,
        evidence: cdePods.map(id).join(', ') || 'no scheduled pod in the CDE namespaces',
        replay: `${k()} get pods -A -o wide | grep -E '^(${[...CDE].join('|')}) '`,
        ...(cdePods.length && !misplaced.length ? {} : { finding: cdePods.length ? 'CDE workloads run on nodes shared with out-of-scope workloads (2.2.3)' : 'no CDE pod is running: placement unproven' }),
      },
      {
        ...base(),
        status: intruders.length ? 'fail' : 'pass',
        adversary: 'workloads outside the CDE',
        action: `list the pods on the CDE node(s) ${cdeNodes.join(', ')} that belong to no CDE namespace`,
        predicted: 'rejected',
        observed: intruders.length ? 'admitted' : 'rejected',
        layer: { kind: 'scheduler', names: [`taint ${TAINT.key}=${TAINT.value}:${TAINT.effect}`] },
        message: intruders.length ? `pods from outside the CDE on a CDE node: ${intruders.map(id).join(', ')}` : `no pod from outside the CDE runs on a CDE node (node agents: ${agents.map(id).join(', ') || 'none'}; harness instruments: ${instruments.map(id).join(', ') || 'none'})`,
        evidence: `on CDE nodes: ${pods.filter((p) => cdeNodes.includes(p.spec.nodeName!)).map(id).join(', ')}`,
        replay: `${k()} get pods -A -o wide --field-selector spec.nodeName=${cdeNodes[0] ?? '<cde-node>'}`,
        ...(intruders.length ? { finding: `out-of-scope pods share the CDE node pool: ${intruders.map(id).join(', ')} (2.2.3)` } : {}),
      },
    ];
    if (results.some((r) => r.status !== 'pass')) for (const r of results) if (r.status !== 'pass') r.evidence += await diagnose('placement');
    recordLiveResults(results);
    for (const r of results) expect(r.status, explain(r)).toBe('pass');
  });

  it('a pod in default that selects the CDE label WITHOUT the toleration is never scheduled (the taint holds)', async () => {
    const a = await tryToLand('default', `cde-node-no-tol-${nonce}`, false);
    const landed = a.node !== undefined && cdeNodes.includes(a.node);
    const r: LiveResult = {
      ...base(),
      status: !a.admitted || a.unschedulable ? 'pass' : landed ? 'fail' : 'pass',
      adversary: 'outsider default (a pod that asks for a CDE node, without the toleration)',
      action: `create Pod default/cde-node-no-tol-${nonce} with nodeSelector ${JSON.stringify(LABEL)}`,
      predicted: 'rejected',
      observed: landed ? 'admitted' : 'rejected',
      layer: { kind: 'scheduler', names: [`taint ${TAINT.key}=${TAINT.value}:${TAINT.effect}`] },
      object: `Pod/default/cde-node-no-tol-${nonce}`,
      message: landed ? `scheduled onto CDE node ${a.node}` : a.unschedulable ? `the scheduler refuses: ${a.unschedulable}` : `rejected at admission: ${a.text}`,
      evidence: (a.unschedulable ?? a.text).slice(0, 600),
      replay: a.replay,
      ...(landed ? { finding: `a pod without the CDE toleration runs on CDE node ${a.node}: the node is not tainted (2.2.3)` } : {}),
    };
    if (r.status !== 'pass') r.evidence += await diagnose('no toleration', [{ namespace: 'default', name: `cde-node-no-tol-${nonce}` }]);
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });

  const ATTEMPTS = [
    { id: 'toleration', what: 'adds the CDE toleration and nodeSelector', tolerate: true, placement: undefined, rule: 'cde-node-isolation/no-cde-toleration-outside-cde' },
    { id: 'tolerate-all', what: 'tolerates every taint and selects the CDE label', tolerate: false, placement: { tolerations: [{ operator: 'Exists' }], nodeSelector: { ...LABEL } }, rule: 'cde-node-isolation/no-cde-toleration-outside-cde' },
    { id: 'affinity', what: 'adds the CDE toleration and a required node affinity on the CDE label', tolerate: true, placement: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: Object.entries(LABEL).map(([key, v]) => ({ key, operator: 'In', values: [v] })) }] } } } }, rule: 'cde-node-isolation/no-cde-node-selection-outside-cde' },
  ] as const;
  for (const ns of TENANT_NAMESPACES) {
    for (const at of ATTEMPTS) {
      it(`a tenant pod in ${ns} that ${at.what} is refused at admission (${at.rule}) and never lands on a CDE node`, async () => {
        const name = `cde-node-${at.id}-${nonce}`;
        const a = await tryToLand(ns, name, at.tolerate, 20_000, { asTenant: true, ...(at.placement ? { placement: structuredClone(at.placement) as Record<string, unknown> } : {}) });
        const landed = a.node !== undefined && cdeNodes.includes(a.node);
        const seen = readAdmission(a.admitted ? 0 : 1, a.text);
        const byRule = seen.layer === 'kyverno' && seen.kyvernoRules.some((r) => r.startsWith(at.rule));
        const r: LiveResult = {
          ...base(),
          status: !a.admitted && byRule ? 'pass' : seen.verdict === 'check-failed' ? 'inconclusive' : 'fail',
          adversary: `tenant tenant-${nonce} (client certificate; may run pods in ${TENANT_NAMESPACES.join(' and ')} only)`,
          action: `create Pod ${ns}/${name} that ${at.what}`,
          predicted: 'rejected',
          observed: a.admitted ? 'admitted' : 'rejected',
          layer: { kind: 'kyverno', names: [at.rule] },
          object: `Pod/${ns}/${name}`,
          message: landed
            ? `admitted and scheduled onto CDE node ${a.node}`
            : !a.admitted
              ? `rejected at admission by ${seen.layer === 'kyverno' ? seen.kyvernoRules.join(', ') : seen.layer ?? 'an unknown layer'}`
              : `admitted (never placed on a CDE node: ${a.node ? `scheduled on ${a.node}` : a.unschedulable}) — the claimed admission rule did not refuse it`,
          evidence: (!a.admitted ? a.text : `pod ${ns}/${name} admitted (${a.text}); spec.nodeName=${a.node ?? '(none)'}${a.unschedulable ? `; ${a.unschedulable}` : ''}`).slice(0, 800),
          replay: a.replay,
          ...(a.admitted ? { finding: `2.2.3: a pod outside the CDE (${ns}) that ${at.what} is admitted${landed ? ` and runs on CDE node ${a.node}` : ''}: ${at.rule} does not hold` } : !byRule ? { finding: `refused, but not by ${at.rule}: the claim is unproven` } : {}),
        };
        if (r.status !== 'pass') r.evidence += await diagnose(`tenant ${at.id} ${ns}`, a.admitted ? [{ namespace: ns, name }] : []);
        recordLiveResults([r]);
        expect(r.status, explain(r)).toBe('pass');
      });
    }
  }

  it('control: the same tenant runs an ordinary pod in default (not on a CDE node): the refusals above are not blanket', async () => {
    const name = `cde-node-control-${nonce}`;
    const a = await tryToLand('default', name, false, 30_000, { asTenant: true, placement: {} });
    const onCde = a.node !== undefined && cdeNodes.includes(a.node);
    const r: LiveResult = {
      ...base(),
      status: a.admitted && a.node && !onCde ? 'pass' : 'fail',
      adversary: `tenant tenant-${nonce} (control)`,
      action: `create Pod default/${name} with no CDE placement`,
      predicted: 'admitted',
      observed: a.admitted ? 'admitted' : 'rejected',
      layer: { kind: 'scheduler', names: ['no CDE toleration: an ordinary node'] },
      object: `Pod/default/${name}`,
      message: a.admitted ? `admitted, scheduled on ${a.node ?? `nothing yet (${a.unschedulable})`}` : `rejected: ${a.text.slice(0, 300)}`,
      evidence: a.text.slice(0, 600),
      replay: a.replay,
      ...(a.admitted && a.node && !onCde ? {} : { finding: a.admitted ? 'the control pod did not schedule on an ordinary node' : 'the tenant cannot run even an ordinary pod: the refusals above prove nothing' }),
    };
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });
});
