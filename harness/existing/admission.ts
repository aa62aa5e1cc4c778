import { stringify } from 'yaml';
import { isKyvernoPolicy } from '../analyzers/kyverno/policy.ts';
import { cdeNamespaces } from '../analyzers/rbac/scope.ts';
import { podTemplates } from '../analyzers/workloads.ts';
import { harnessPod } from '../cluster/pods.ts';
import type { Cluster } from '../cluster/provider.ts';
import { redactCredentials } from '../evidence/bundle.ts';
import type { ManifestSet } from '../manifests/types.ts';
import type { LiveResult } from '../scenario/result.ts';
import { asKind, predictKyverno, predictPsa, readAdmission, UNSAFE_PATHS, weakened, type Json, type UnsafePath, type WorkloadKind } from '../scenario/unsafe-deploys.ts';
import { inPool } from '../scenario/pool.ts';

/**
 * Admission on a cluster the harness did not create: the unsafe deploys of
 * harness/scenario/unsafe-deploys.ts (each weakens one thing of a
 * restricted-compliant pod), as a Pod and a Deployment, into every CDE
 * namespace of the set — ALWAYS `--dry-run=server` (every admission plugin
 * and webhook runs, nothing is stored, no controller acts). The prediction is
 * the offline lane's for the same object: PSA by the namespace's labels in
 * the set (Pods only: PSA does not judge workload kinds), then the real
 * Kyverno CLI with the set's validate policies. verifyImages needs the
 * signing registry: the base pod runs the image a CDE workload already runs
 * on the cluster, which its verifyImages rule has already admitted.
 */
export const SCENARIO = 'existing.admission-dry-run';
const KINDS: WorkloadKind[] = ['Pod', 'Deployment'];

interface Attempt {
  namespace: string;
  kind: WorkloadKind;
  path?: UnsafePath;
  object: Json;
}

const keyOf = (o: Json) => `${String(o.kind)}/${(o.metadata as { namespace: string }).namespace}/${(o.metadata as { name: string }).name}`;

/** The image a Running pod of the namespace runs (read only), so the image rules judge a real, admitted one. */
async function runningImage(cluster: Cluster, ns: string): Promise<string | undefined> {
  const r = await cluster.kubectl(['get', 'pods', '-n', ns, '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[0].spec.containers[0].image}'], { reject: false });
  return r.stdout.trim() || undefined;
}

export interface AdmissionOutcome {
  results: LiveResult[];
  /** CDE namespaces of the set the cluster lacks: nothing could be tried there. */
  missingNamespaces: string[];
}

export async function dryRunUnsafeDeploys(cluster: Cluster, set: ManifestSet, kyvernoCli: string, nonce: string, replayPrefix: string): Promise<AdmissionOutcome> {
  const labelsOf = (ns: string) => set.objects.find((o) => o.object.kind === 'Namespace' && o.object.metadata.name === ns)?.object.metadata.labels ?? {};
  const policies = set.objects.filter((o) => isKyvernoPolicy(o) && !JSON.stringify(o.object.spec ?? {}).includes('"verifyImages"') && JSON.stringify(o.object.spec ?? {}).includes('"validate"'));
  const attempts: Attempt[] = [];
  const missingNamespaces: string[] = [];
  for (const ns of [...cdeNamespaces(set)].sort()) {
    const there = await cluster.kubectl(['get', 'namespace', ns, '-o', 'name'], { reject: false });
    if (there.exitCode !== 0) {
      missingNamespaces.push(ns);
      continue;
    }
    const template = podTemplates(set).find((t) => t.namespace === ns);
    const spec = (template?.spec ?? {}) as { nodeSelector?: Record<string, string>; tolerations?: unknown[] };
    const image = (await runningImage(cluster, ns)) ?? cluster.images.cdeServerImage;
    for (const kind of KINDS) {
      for (const path of [undefined, ...UNSAFE_PATHS]) {
        const name = `pci-dry-${kind.toLowerCase()}-${path?.id ?? 'compliant'}-${nonce}`.slice(0, 60).replace(/-$/, '');
        const base = harnessPod({
          namespace: ns,
          name,
          image,
          labels: { 'pci-harness.dev/attack-run': nonce },
          ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
        });
        attempts.push({ namespace: ns, kind, path, object: asKind(weakened(base, path, name), kind) });
      }
    }
  }
  if (attempts.length === 0) return { results: [], missingNamespaces };
  const namespaces = [...new Set(attempts.map((a) => a.namespace))].map((name) => ({ name, labels: labelsOf(name) }));
  const kyverno = await predictKyverno(kyvernoCli, policies, namespaces, attempts.map((a) => a.object));
  const results = await inPool(attempts, 4, async (a): Promise<LiveResult> => {
    const psa = a.kind === 'Pod' ? predictPsa(a.object, labelsOf(a.namespace)) : { rejects: false, profile: '', violations: [] as string[] };
    const rules = kyverno.get(keyOf(a.object)) ?? [];
    const p = psa.rejects ? { verdict: 'rejected' as const, layer: 'psa' as const } : rules.length ? { verdict: 'rejected' as const, layer: 'kyverno' as const } : { verdict: 'admitted' as const, layer: undefined };
    const yaml = stringify(a.object);
    const args = ['create', '--dry-run=server', '-f', '-'];
    const r = await cluster.kubectl(args, { input: yaml, reject: false, timeoutMs: 60_000 });
    const text = redactCredentials(`${r.stdout}\n${r.stderr}`.trim());
    const o = readAdmission(r.exitCode, text);
    const agrees = o.verdict === p.verdict && (o.verdict === 'admitted' || (o.layer === p.layer && (p.layer !== 'kyverno' || o.kyvernoRules.join(',') === rules.join(',')) && (p.layer !== 'psa' || o.psaProfile === psa.profile)));
    const status = o.verdict === 'check-failed' ? 'inconclusive' : agrees ? 'pass' : 'fail';
    const predictedBy = p.layer === 'psa' ? `PSA ${psa.profile} (${psa.violations.join(', ')})` : p.layer === 'kyverno' ? `Kyverno ${rules.join(', ')}` : 'no layer';
    const observedBy = o.layer === 'psa' ? `PSA ${o.psaProfile}` : o.layer === 'kyverno' ? `Kyverno ${o.kyvernoRules.join(', ')}` : (o.layer ?? 'no layer');
    const what = a.path ? a.path.what : 'nothing unsafe (control)';
    return {
      lane: 'live',
      check: p.layer === 'psa' ? 'live.admission.psa' : 'live.admission.kyverno',
      requirement: p.layer === 'psa' ? '2.2.1' : (a.path?.requirement ?? '2.2.6'),
      status,
      scenario: SCENARIO,
      adversary: 'a deploy with the kubeconfig\'s own credentials (existing cluster; admission is the guard under test)',
      action: `create (server dry run) ${a.kind} ${a.namespace}/${(a.object.metadata as { name: string }).name} with ${what}`,
      predicted: p.verdict,
      observed: o.verdict,
      layer: p.layer === 'psa' ? { kind: 'psa', names: [psa.profile, ...psa.violations] } : p.layer === 'kyverno' ? { kind: 'kyverno', names: rules } : { kind: 'kyverno', names: ['(admitted by every layer)'] },
      object: keyOf(a.object),
      message: `${a.namespace} ${a.kind} ${a.path?.id ?? 'compliant'} (dry run): predicted ${p.verdict} by ${predictedBy}; observed ${o.verdict}${o.verdict === 'rejected' ? ` by ${observedBy}` : ''}`,
      evidence: text.slice(0, 1200),
      replay: `${replayPrefix} ${args.join(' ')} <<'EOF'\n${yaml}EOF`,
      ...(status === 'fail'
        ? { finding: o.verdict !== p.verdict ? `PREDICTION MISMATCH: the offline lane says ${p.verdict} (${predictedBy}), the cluster ${o.verdict} (${observedBy})` : `rejected, but not by the layer that claims it: predicted ${predictedBy}, observed ${observedBy}` }
        : {}),
    };
  });
  return { results, missingNamespaces };
}
