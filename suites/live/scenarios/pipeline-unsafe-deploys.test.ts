import { liveManifestsDir } from '../../../harness/scenario/context.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isKyvernoPolicy } from '../../../harness/analyzers/kyverno/policy.ts';
import { REPO_ROOT } from '../../../harness/cluster/paths.ts';
import { harnessPod } from '../../../harness/cluster/pods.ts';
import type { Cluster } from '../../../harness/cluster/provider.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import { loadManifestDir } from '../../../harness/manifests/load.ts';
import { clientCertIdentity, type ActingIdentity } from '../../../harness/scenario/identities.ts';
import { DEPLOYER_GROUP, pipelineModel } from '../../../harness/scenario/pipeline.ts';
import { pollUntil } from '../../../harness/scenario/poll.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { asKind, predictKyverno, predictPsa, readAdmission, UNSAFE_PATHS, weakened, WORKLOAD_KINDS, type Json, type UnsafePath, type WorkloadKind } from '../../../harness/scenario/unsafe-deploys.ts';
import { locateKyvernoCli } from '../../../harness/tools/kyverno-cli.ts';
import { explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';
import { inPool } from '../../../harness/scenario/pool.ts';

/**
 * Adversary 2, the compromised CI pipeline, deploys something unsafe into the
 * CDE: a privileged container, the node's filesystem, PID, network or IPC
 * namespace, a host port, SYS_ADMIN, root, no runAsNonRoot, no seccomp, a
 * writable root filesystem, an image from outside the CDE registry, a
 * privileged init container — as a Pod, Deployment, StatefulSet, DaemonSet,
 * Job and CronJob — and adds a privileged debug container to a running CDE
 * pod (`kubectl debug --profile=sysadmin`).
 *
 * Each layer is proven on its own, because PSA rejects most of these first
 * and that proves nothing about Kyverno:
 *   psa-only      a namespace with the CDE's PSA labels and no pci-scope label
 *                 (no CDE Kyverno rule matches): PSA's verdict alone;
 *   kyverno-only  a pci-scope namespace without PSA labels: Kyverno's verdict
 *                 alone, with the exact rules it names;
 *   the CDE       cde-processing, as the pipeline (its own certificate): the
 *                 first layer that refuses. PSA enforces on Pods only, so every
 *                 workload kind must be refused by Kyverno's autogen rules at
 *                 admission, not left to fail at ReplicaSet level.
 * Every prediction comes from the offline lane's engines on the same object:
 * the pod-security checks for the namespace's labels, the real Kyverno CLI
 * with the set's policies. A compliant control of every kind is admitted in
 * every namespace (the denials are not blanket). Pods are created for real in
 * the CDE; workloads and scratch-namespace attempts use a server-side dry run
 * (every admission plugin and webhook runs — Kyverno declares no side effects
 * — and no controller ever acts on them).
 */
const SCENARIO = 'pipeline.unsafe-deploys';
const nonce = randomBytes(2).toString('hex');
const USER = `ci-pipeline-${nonce}`;
const CDE_NS = 'cde-processing';
const PSA_ONLY = `pci-psa-only-${nonce}`;
const KYVERNO_ONLY = `pci-kyverno-only-${nonce}`;
const set = loadManifestDir(liveManifestsDir());
const cdeLabels = set.objects.find((o) => o.object.kind === 'Namespace' && o.object.metadata.name === CDE_NS)?.object.metadata.labels ?? {};
const psaLabels = Object.fromEntries(Object.entries(cdeLabels).filter(([k]) => k.startsWith('pod-security.kubernetes.io/')));
const scopeLabels = Object.fromEntries(Object.entries(cdeLabels).filter(([k]) => !k.startsWith('pod-security.kubernetes.io/')));
// The admission guards only: verifyImages needs a registry (signed-images.test.ts proves it) and matches none of these images.
const policies = set.objects.filter((o) => isKyvernoPolicy(o) && ['cde-pod-security-requirements', 'cde-node-isolation'].includes(o.object.metadata.name));
const model = pipelineModel(USER, set);

type Where = 'psa-only' | 'kyverno-only' | 'cde';
interface Attempt {
  where: Where;
  kind: WorkloadKind;
  path?: UnsafePath;
  object: Json;
  /** Real create (a CDE Pod) or server dry run. */
  real: boolean;
  asPipeline: boolean;
}
interface Prediction {
  verdict: 'admitted' | 'rejected';
  layer?: 'psa' | 'kyverno';
  kyvernoRules: string[];
  psaProfile?: string;
  psaViolations: string[];
}

let cluster: Cluster;
let pipeline: ActingIdentity;
let kyvernoCli = '';

/** The offline lane's Kyverno CLI: the predictions come from it. */
function kyvernoCliPath(): string {
  const cli = locateKyvernoCli();
  if (!('found' in cli)) throw new Error('the Kyverno CLI is needed for the predictions: npx pci-harness images build kyverno-cli');
  return cli.found.path;
}
const attempts: Attempt[] = [];
const kyvernoPrediction = new Map<string, string[]>();
const outcomes = new Map<Attempt, LiveResult>();

const k = () => `kubectl --kubeconfig ${cluster.kubeconfigPath}`;
const key = (o: Json) => `${String(o.kind)}/${(o.metadata as { namespace: string }).namespace}/${(o.metadata as { name: string }).name}`;
const nsOf: Record<Where, string> = { 'psa-only': PSA_ONLY, 'kyverno-only': KYVERNO_ONLY, cde: CDE_NS };
const labelsOf: Record<Where, Record<string, string>> = { 'psa-only': psaLabels, 'kyverno-only': scopeLabels, cde: cdeLabels };

function basePod(where: Where, name: string): Json {
  return harnessPod({
    namespace: nsOf[where],
    name,
    image: cluster.images.cdeServerImage,
    args: ['--listen', '8080'],
    labels: { 'pci-harness.dev/attack-run': nonce },
    // Only the CDE pods are scheduled for real; they belong on the CDE node.
    ...(where === 'cde' ? { nodeSelector: { 'pci-scope': 'in-scope' }, tolerations: [{ key: 'pci-scope', operator: 'Equal', value: 'in-scope', effect: 'NoSchedule' }] } : {}),
  });
}

function predict(a: Attempt): Prediction {
  const psa = a.kind === 'Pod' ? predictPsa(a.object, labelsOf[a.where]) : { rejects: false, profile: '', violations: [] as string[] };
  const rules = kyvernoPrediction.get(key(a.object)) ?? [];
  if (psa.rejects) return { verdict: 'rejected', layer: 'psa', kyvernoRules: [], psaProfile: psa.profile, psaViolations: psa.violations };
  if (rules.length) return { verdict: 'rejected', layer: 'kyverno', kyvernoRules: rules, psaViolations: [] };
  return { verdict: 'admitted', kyvernoRules: [], psaViolations: [] };
}

async function attempt(a: Attempt): Promise<LiveResult> {
  const p = predict(a);
  const yaml = stringify(a.object);
  const args = ['create', ...(a.real ? [] : ['--dry-run=server']), '-f', '-'];
  const r = await (a.asPipeline ? pipeline.kubectl(args, { input: yaml, reject: false, timeoutMs: 60_000 }) : cluster.kubectl(args, { input: yaml, reject: false, timeoutMs: 60_000 }));
  const text = redactCredentials(`${r.stdout}\n${r.stderr}`.trim());
  const o = readAdmission(r.exitCode, text);
  if (a.real && o.verdict === 'admitted') await cluster.kubectl(['delete', String(a.object.kind).toLowerCase(), (a.object.metadata as { name: string }).name, '-n', nsOf[a.where], '--wait=false', '--ignore-not-found'], { reject: false });
  const sameRules = p.kyvernoRules.join(',') === o.kyvernoRules.join(',');
  const agrees = o.verdict === p.verdict && (o.verdict === 'admitted' || (o.layer === p.layer && (p.layer !== 'kyverno' || sameRules) && (p.layer !== 'psa' || o.psaProfile === p.psaProfile)));
  const status = o.verdict === 'check-failed' ? 'inconclusive' : agrees ? 'pass' : 'fail';
  const who = a.asPipeline ? `CI pipeline ${USER} (client certificate, group ${DEPLOYER_GROUP})` : 'a deploy with admin credentials (admission is the only guard)';
  const what = a.path ? a.path.what : 'nothing unsafe (control)';
  const predictedBy = p.layer === 'psa' ? `PSA ${p.psaProfile} (${p.psaViolations.join(', ')})` : p.layer === 'kyverno' ? `Kyverno ${p.kyvernoRules.join(', ')}` : 'no layer';
  const observedBy = o.layer === 'psa' ? `PSA ${o.psaProfile}` : o.layer === 'kyverno' ? `Kyverno ${o.kyvernoRules.join(', ')}` : o.layer ?? 'no layer';
  const check = a.where === 'psa-only' ? 'live.admission.psa' : a.where === 'kyverno-only' ? 'live.admission.kyverno' : 'live.admission.pipeline';
  return {
    lane: 'live',
    check,
    requirement: a.where === 'psa-only' ? '2.2.1' : (a.path?.requirement ?? '2.2.6'),
    status,
    scenario: `${SCENARIO}.${a.where}`,
    adversary: who,
    action: `${a.real ? 'create' : 'create (server dry run)'} ${a.kind} ${nsOf[a.where]}/${(a.object.metadata as { name: string }).name} with ${what}`,
    predicted: p.verdict,
    observed: o.verdict,
    layer: p.layer === 'psa' ? { kind: 'psa', names: [p.psaProfile!, ...p.psaViolations] } : p.layer === 'kyverno' ? { kind: 'kyverno', names: p.kyvernoRules } : { kind: 'kyverno', names: ['(admitted by every layer)'] },
    object: key(a.object),
    message: `${a.where} ${a.kind} ${a.path?.id ?? 'compliant'}: predicted ${p.verdict} by ${predictedBy}; observed ${o.verdict}${o.verdict === 'rejected' ? ` by ${observedBy}` : ''}`,
    evidence: text.slice(0, 1200),
    replay: a.asPipeline ? pipeline.replay(`${args.join(' ')} <<'EOF'\n${yaml}EOF`) : `${k()} ${args.join(' ')} <<'EOF'\n${yaml}EOF`,
    ...(status === 'fail'
      ? {
          finding:
            o.verdict !== p.verdict
              ? `PREDICTION MISMATCH: the offline lane says ${p.verdict} (${predictedBy}), the cluster ${o.verdict} (${observedBy}) — ${o.verdict === 'admitted' ? `${what} runs in ${nsOf[a.where]}` : 'a layer refuses what the offline model admits'}`
              : `rejected, but not by the layer that claims it: predicted ${predictedBy}, observed ${observedBy}`,
        }
      : {}),
  };
}

beforeAll(async () => {
  try {
    cluster = sharedCluster();
    kyvernoCli = kyvernoCliPath();
    pipeline = await clientCertIdentity(cluster, USER, [DEPLOYER_GROUP]);
    for (const [ns, labels] of [[PSA_ONLY, psaLabels], [KYVERNO_ONLY, scopeLabels]] as const) {
      await cluster.kubectl(['create', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...labels, 'app.kubernetes.io/managed-by': 'pci-harness' } } }) });
    }
    for (const where of ['psa-only', 'kyverno-only', 'cde'] as const) {
      for (const kind of WORKLOAD_KINDS) {
        // PSA enforces on Pods only: workload kinds in the PSA-only namespace would say nothing.
        if (where === 'psa-only' && kind !== 'Pod') continue;
        for (const path of [undefined, ...UNSAFE_PATHS]) {
          const name = `${kind.toLowerCase()}-${path?.id ?? 'compliant'}-${nonce}`.slice(0, 52);
          const object = asKind(weakened(basePod(where, name), path, name), kind);
          attempts.push({ where, kind, path, object, real: where === 'cde' && kind === 'Pod', asPipeline: where === 'cde' });
        }
      }
    }
    const predicted = await predictKyverno(
      kyvernoCli,
      policies,
      (['psa-only', 'kyverno-only', 'cde'] as const).map((w) => ({ name: nsOf[w], labels: labelsOf[w] })),
      attempts.map((a) => a.object),
    );
    for (const [k2, v] of predicted) kyvernoPrediction.set(k2, v);
    const t0 = Date.now();
    const results = await inPool(attempts, 4, attempt);
    attempts.forEach((a, i) => outcomes.set(a, results[i]!));
    recordLiveResults(results);
    process.stdout.write(`${SCENARIO}: ${attempts.length} attempts in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (e) {
    throw new Error(`INCONCLUSIVE: ${SCENARIO} set-up failed: ${redactCredentials((e as Error).message)}`);
  }
}, 600_000);

afterAll(async () => {
  await pipeline?.[Symbol.asyncDispose]();
  for (const ns of [PSA_ONLY, KYVERNO_ONLY]) await cluster?.kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'], { reject: false });
  await cluster?.kubectl(['delete', 'pods', '-n', CDE_NS, '-l', `pci-harness.dev/attack-run=${nonce}`, '--wait=false', '--ignore-not-found'], { reject: false });
});

const label = (a: Attempt) => `${a.kind} ${a.path ? `with ${a.path.what}` : 'compliant (control)'}`;

describe('adversary 2: the compromised pipeline deploys something unsafe — each layer refuses what it claims, on its own', () => {
  for (const where of ['psa-only', 'kyverno-only', 'cde'] as const) {
    describe(where === 'psa-only' ? `Pod Security alone (${PSA_ONLY}: the CDE's PSA labels, no pci-scope)` : where === 'kyverno-only' ? `Kyverno alone (${KYVERNO_ONLY}: pci-scope, no PSA labels)` : `the CDE (${CDE_NS}), as the pipeline itself`, () => {
      for (const kind of WORKLOAD_KINDS) {
        if (where === 'psa-only' && kind !== 'Pod') continue;
        it(`${kind}: every unsafe path refused by the predicted layer and rules; the compliant ${kind} admitted`, () => {
          const mine = attempts.filter((a) => a.where === where && a.kind === kind);
          expect(mine.length, 'no attempt was made').toBe(UNSAFE_PATHS.length + 1);
          const bad = mine.map((a) => outcomes.get(a)!).filter((r) => r.status !== 'pass');
          expect(bad.map((r) => explain(r)).join('\n\n'), `${bad.length} of ${mine.length} ${kind} attempts disagree with the prediction`).toBe('');
        });
      }
    });
  }

  it('the layers are really isolated: in the Kyverno-only namespace PSA refused nothing, in the PSA-only one Kyverno refused nothing', () => {
    const leaks = attempts
      .filter((a) => a.where !== 'cde')
      .map((a) => ({ a, r: outcomes.get(a)! }))
      .filter(({ a, r }) => (a.where === 'kyverno-only' && /PodSecurity/.test(r.evidence ?? '')) || (a.where === 'psa-only' && /kyverno/.test(r.evidence ?? '')));
    expect(leaks.map(({ a }) => `${a.where}: ${label(a)}`)).toEqual([]);
  });
});

describe('adversary 2: a privileged debug container in a running pod (kubectl debug --profile=sysadmin)', () => {
  async function runningPod(ns: string, selector: string[]): Promise<{ name: string; pod: Json }> {
    const found = await pollUntil(
      async () => (JSON.parse((await cluster.kubectl(['get', 'pods', '-n', ns, ...selector, '--field-selector=status.phase=Running', '-o', 'json'])).stdout) as { items: Json[] }).items,
      (items) => items.length > 0,
      { timeoutMs: 60_000 },
    );
    const pod = found.value[0];
    if (!pod) throw new Error(`INCONCLUSIVE: no running pod in ${ns} to debug`);
    return { name: (pod.metadata as { name: string }).name, pod };
  }

  async function debugAttempt(where: 'cde' | 'kyverno-only', asPipeline: boolean): Promise<LiveResult> {
    const ns = nsOf[where];
    let target: { name: string; pod: Json };
    if (where === 'cde') target = await runningPod(ns, ['-l', 'app=card-processor']);
    else {
      const name = `debug-target-${nonce}`;
      await cluster.kubectl(['create', '-f', '-'], { input: stringify(basePod('kyverno-only', name)) });
      target = await runningPod(ns, ['-l', `pci-harness.dev/attack-run=${nonce}`]);
    }
    const dbg = `dbg-${nonce}-${asPipeline ? 'p' : 'a'}`;
    const args = ['debug', '-n', ns, target.name, `--image=${cluster.images.cdeServerImage}`, '--profile=sysadmin', `--container=${dbg}`, '--', '/server', '--listen', '9999'];
    // What the API server is asked to store: the pod plus a container with only `privileged: true` (kubectl's sysadmin profile).
    const withDebug = structuredClone(target.pod) as Json & { spec: Json & { ephemeralContainers?: Json[] } };
    withDebug.spec.ephemeralContainers = [...(withDebug.spec.ephemeralContainers ?? []), { name: dbg, image: cluster.images.cdeServerImage, securityContext: { privileged: true } }];
    const predictedRules = asPipeline ? [] : ((await predictKyverno(kyvernoCli, policies, [{ name: ns, labels: labelsOf[where] }], [withDebug])).get(key(withDebug)) ?? []);
    const psa = predictPsa(withDebug, labelsOf[where]);
    const rbacGrant = model.mayDo(ns, { verb: 'patch', apiGroup: '', resource: 'pods/ephemeralcontainers', name: target.name });
    const p: Prediction = asPipeline && !rbacGrant ? { verdict: 'rejected', kyvernoRules: [], psaViolations: [] } : psa.rejects ? { verdict: 'rejected', layer: 'psa', kyvernoRules: [], psaProfile: psa.profile, psaViolations: psa.violations } : predictedRules.length ? { verdict: 'rejected', layer: 'kyverno', kyvernoRules: predictedRules, psaViolations: [] } : { verdict: 'admitted', kyvernoRules: [], psaViolations: [] };
    const expectLayer = asPipeline && !rbacGrant ? 'rbac' : p.layer;
    const r = await (asPipeline ? pipeline.kubectl(args, { reject: false, timeoutMs: 60_000 }) : cluster.kubectl(args, { reject: false, timeoutMs: 60_000 }));
    const text = redactCredentials(`${r.stdout}\n${r.stderr}`.trim());
    const o = readAdmission(r.exitCode, text);
    const agrees = o.verdict === p.verdict && (o.verdict === 'admitted' || (o.layer === expectLayer && (expectLayer !== 'kyverno' || o.kyvernoRules.join(',') === p.kyvernoRules.join(','))));
    const status = o.verdict === 'check-failed' ? 'inconclusive' : agrees ? 'pass' : 'fail';
    return {
      lane: 'live',
      check: asPipeline ? 'live.rbac.pipeline' : where === 'cde' ? 'live.admission.psa' : 'live.admission.kyverno',
      requirement: asPipeline ? '7.2.2' : where === 'cde' ? '2.2.1' : '2.2.6',
      status,
      scenario: `${SCENARIO}.ephemeral`,
      adversary: asPipeline ? `CI pipeline ${USER} (client certificate, group ${DEPLOYER_GROUP})` : 'a debug session with admin credentials (admission is the only guard)',
      action: `kubectl debug --profile=sysadmin into ${ns}/${target.name} (a privileged ephemeral container)`,
      predicted: p.verdict,
      observed: o.verdict,
      layer: expectLayer === 'rbac' ? { kind: 'rbac', names: ['no binding grants pods/ephemeralcontainers (access table)'] } : expectLayer === 'psa' ? { kind: 'psa', names: [psa.profile, ...psa.violations] } : { kind: 'kyverno', names: p.kyvernoRules },
      object: `Pod/${ns}/${target.name}`,
      message: `ephemeral container in ${ns}: predicted ${p.verdict} by ${expectLayer ?? 'no layer'}${p.kyvernoRules.length ? ` (${p.kyvernoRules.join(', ')})` : ''}; observed ${o.verdict} by ${o.layer ?? 'no layer'}${o.kyvernoRules.length ? ` (${o.kyvernoRules.join(', ')})` : ''}`,
      evidence: text.slice(0, 1200),
      replay: asPipeline ? pipeline.replay(args.join(' ')) : `${k()} ${args.join(' ')}`,
      ...(status === 'fail' ? { finding: o.verdict === 'admitted' ? `a privileged debug container was added to ${ns}/${target.name}` : `refused, but not as predicted (layer ${o.layer}, rules ${o.kyvernoRules.join(', ')})` } : {}),
    };
  }

  it('the pipeline cannot even ask: no right to pods/ephemeralcontainers in the CDE (RBAC, 403)', async () => {
    const r = await debugAttempt('cde', true);
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });
  it('with admin credentials, into a running CDE pod: PSA restricted refuses the privileged ephemeral container', async () => {
    const r = await debugAttempt('cde', false);
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });
  it('with admin credentials, in the Kyverno-only namespace: Kyverno alone refuses it, naming the rules the CLI predicts', async () => {
    const r = await debugAttempt('kyverno-only', false);
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });
});
