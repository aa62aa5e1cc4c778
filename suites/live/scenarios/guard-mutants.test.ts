import { liveManifestsDir } from '../../../harness/scenario/context.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { effectivePermissions } from '../../../harness/analyzers/rbac/effective.ts';
import { specDocuments } from '../../../harness/analyzers/rbac/scope.ts';
import { REPO_ROOT } from '../../../harness/cluster/paths.ts';
import { deletePod, harnessPod } from '../../../harness/cluster/pods.ts';
import type { Cluster } from '../../../harness/cluster/provider.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import { loadManifestDir } from '../../../harness/manifests/load.ts';
import { actingUser, auditExcerpt, AuditLogReader } from '../../../harness/scenario/audit-log.ts';
import { clientCertIdentity, tenantIdentity, type ActingIdentity } from '../../../harness/scenario/identities.ts';
import { DEPLOYER_GROUP } from '../../../harness/scenario/pipeline.ts';
import { asKind, readAdmission, UNSAFE_PATHS, weakened } from '../../../harness/scenario/unsafe-deploys.ts';
import { compareRules, describeMismatch, identityOf, type RulesReviewStatus } from '../../../harness/scenario/rbac-live.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import type { ScopeDeclarationSpec } from '../../../harness/spec/types.ts';
import { assessorRows, type AssessorEnv } from '../support/assessor-rows.ts';
import { explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';

/**
 * Live mutants for the insider / node-pool / admission guards: each weakens
 * the RUNNING objects, the guarding observation (the same one the insider,
 * cde-nodes and admission scenarios make) must turn red naming the
 * requirement, then the objects are restored (always, in finally) and the
 * observation must be green again. Verdicts, as for the network mutants
 * (harness/scenario/live-mutants.ts): KILLED (red under the weakening, green
 * after restore), SURVIVED (a finding: the scenario does not guard it),
 * KILLED, NOT RESTORED (the cluster did not come back: fail).
 *
 *   rbac-secrets-binding   a RoleBinding lets pci-operators read Secrets in
 *                          cde-processing → the insider's list is permitted (7.2.2)
 *                          and the live RBAC review no longer equals the prediction
 *   rbac-exec-grant        pci-operators (no exec right) granted pods/exec in
 *                          cde-frontend → the insider's exec is permitted (7.2.2);
 *                          the granted exec is audited at Request with user, pod, container
 *   cde-taint-removed      the CDE taint removed from the CDE node(s) → a pod from
 *                          default that only selects the CDE label lands there (2.2.3)
 *   kyverno-rule-audit     require-readonly-root-filesystem switched to Audit → the
 *                          pipeline's writable-root Deployment is admitted (2.2.6)
 *   registry-widened       require-cde-image-registry also allows docker.io/* → the
 *                          pipeline's foreign-registry Deployment is admitted (6.3.2)
 *   node-isolation-audit   cde-node-isolation's toleration rule switched to Audit → a
 *                          tenant pod in default with the CDE toleration is admitted (2.2.3)
 *   deployer-rolebindings  the deployer Role in cde-processing gains rolebindings
 *                          create → the pipeline binds itself to admin (7.2.2)
 *   deployer-debug         the deployer Role gains pods/ephemeralcontainers → the
 *                          pipeline's kubectl debug passes RBAC (7.2.2; PSA still refuses)
 *   psa-downgraded         cde-storage's PSA enforce label set to privileged → a
 *                          pod asking for SELinux type spc_t (only PSA refuses it) is
 *                          admitted (2.2.1); a privileged pod is still refused by Kyverno
 */
const nonce = randomBytes(2).toString('hex');
const set = loadManifestDir(liveManifestsDir());
const eff = effectivePermissions(set);
const scope = specDocuments(set, 'ScopeDeclaration')[0]!.object.spec as ScopeDeclarationSpec;
const TAINT = scope.cdeNodes.taint;
const LABEL = scope.cdeNodes.label;
const operators = identityOf({ kind: 'Group', name: 'pci-operators' }, `insider-mutant-${nonce}`);
const PSA_DENIAL = /violates PodSecurity "restricted:v1\.34"/;
const PSA_NS = 'cde-storage';

let cluster: Cluster;
let audit: AuditLogReader;
const k = () => `kubectl --kubeconfig ${cluster.kubeconfigPath}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Probe {
  /** The guard holds (the scenario is green). */
  green: boolean;
  detail: string;
}

interface GuardMutant {
  id: string;
  requirement: string;
  description: string;
  /** The live objects it changes, for the evidence. */
  objects: string[];
  weaken(): Promise<void>;
  restore(): Promise<void>;
  probe(phase: 'baseline' | 'weakened' | 'restored'): Promise<Probe>;
  replay: string;
}

/** Probe until `want` (green or red) or the window closes: RBAC, PSA and the scheduler see changes within seconds. */
async function probeUntil(m: GuardMutant, phase: 'weakened' | 'restored', want: boolean, timeoutMs = 20_000): Promise<Probe> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await m.probe(phase);
    if (p.green === want || Date.now() > deadline) return p;
    await sleep(1000);
  }
}

const verdicts: Array<{ id: string; requirement: string; verdict: string; ms: number }> = [];

async function runMutant(m: GuardMutant): Promise<LiveResult> {
  const t0 = Date.now();
  const base = { lane: 'live' as const, check: 'live.mutant' as const, requirement: m.requirement, scenario: `mutant.${m.id}`, adversary: 'live weakening of the running cluster', action: `${m.description} (${m.objects.join('; ')})`, object: m.objects[0], replay: m.replay };
  let baseline: Probe;
  let weakened: Probe | undefined;
  let restored: Probe | undefined;
  try {
    baseline = await m.probe('baseline');
    if (!baseline.green) throw new Error(`the guard is not green before the weakening: ${baseline.detail}`);
    try {
      await m.weaken();
      weakened = await probeUntil(m, 'weakened', false);
    } finally {
      // Always, whatever happened: the cluster is shared.
      await m.restore();
    }
    restored = await probeUntil(m, 'restored', true);
  } catch (e) {
    const msg = redactCredentials((e as Error).message);
    verdicts.push({ id: m.id, requirement: m.requirement, verdict: 'INCONCLUSIVE', ms: Date.now() - t0 });
    return { ...base, status: 'inconclusive', predicted: 'forbidden', observed: 'check-failed', layer: { kind: 'rbac', names: m.objects }, message: `INCONCLUSIVE: ${m.id}: ${msg}`, evidence: msg, ms: Date.now() - t0 };
  }
  const killed = !weakened.green;
  const verdict = killed && restored.green ? 'KILLED' : killed ? 'KILLED, NOT RESTORED' : 'SURVIVED';
  verdicts.push({ id: m.id, requirement: m.requirement, verdict, ms: Date.now() - t0 });
  return {
    ...base,
    status: verdict === 'KILLED' ? 'pass' : 'fail',
    predicted: 'forbidden',
    observed: killed ? 'forbidden' : 'permitted',
    layer: { kind: m.id.startsWith('rbac') || m.id.startsWith('deployer') ? 'rbac' : m.id.startsWith('psa') ? 'psa' : m.id.startsWith('kyverno') || m.id.startsWith('registry') || m.id.startsWith('node-isolation') ? 'kyverno' : 'scheduler', names: m.objects },
    message: `${verdict}: ${m.id} [${m.requirement}] — weakened: ${weakened.green ? 'still green' : 'RED'}; restored: ${restored.green ? 'green again' : 'NOT green'}`,
    evidence: `baseline: ${baseline.detail}\nweakened: ${weakened.detail}\nrestored: ${restored.detail}`,
    ...(verdict === 'KILLED' ? {} : { finding: `live mutant ${m.id}: ${verdict}${killed ? ' (the cluster is not back to green: check the objects)' : ' (the scenario does not guard this weakening)'}` }),
    ms: Date.now() - t0,
  };
}

// --- mutant 1: a RoleBinding that lets a human group read Secrets ---------------------------------------
const SECRET_NS = 'cde-processing';
const secretRole = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name: `pci-mutant-secret-reader-${nonce}`, namespace: SECRET_NS, labels: { 'app.kubernetes.io/managed-by': 'pci-harness' } },
  rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }],
};
const secretBinding = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: `pci-mutant-secret-reader-${nonce}`, namespace: SECRET_NS, labels: { 'app.kubernetes.io/managed-by': 'pci-harness' } },
  subjects: [{ kind: 'Group', name: 'pci-operators', apiGroup: 'rbac.authorization.k8s.io' }],
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: secretRole.metadata.name },
};

async function rulesReview(ns: string): Promise<RulesReviewStatus> {
  const r = await cluster.kubectl(['create', '--raw', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', '-f', '-', ...operators.args], { input: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: ns } }), timeoutMs: 30_000 });
  return (JSON.parse(r.stdout) as { status: RulesReviewStatus }).status;
}

const rbacSecrets: GuardMutant = {
  id: 'rbac-secrets-binding',
  requirement: '7.2.2',
  description: `bind Group pci-operators to a Role that reads Secrets in ${SECRET_NS}`,
  objects: [`Role/${SECRET_NS}/${secretRole.metadata.name}`, `RoleBinding/${SECRET_NS}/${secretBinding.metadata.name}`],
  async weaken() {
    await cluster.kubectl(['create', '-f', '-'], { input: [secretRole, secretBinding].map((d) => stringify(d)).join('---\n') });
  },
  async restore() {
    await cluster.kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], { input: [secretBinding, secretRole].map((d) => stringify(d)).join('---\n'), reject: false });
  },
  async probe() {
    // The insider-secrets observation: pci-operators lists Secrets (predicted 403) ...
    const r = await cluster.kubectl(['get', '--raw', `/api/v1/namespaces/${SECRET_NS}/secrets`, ...operators.args], { reject: false, timeoutMs: 30_000 });
    const forbidden = r.exitCode !== 0 && /forbidden/i.test(r.stderr);
    // ... and the insider-rbac observation: the live review equals the prediction.
    const c = compareRules(eff, operators, SECRET_NS, await rulesReview(SECRET_NS));
    return {
      green: forbidden && c.equal,
      detail: `list secrets as pci-operators: ${forbidden ? '403' : r.exitCode === 0 ? 'PERMITTED (7.2.2)' : `exit ${r.exitCode}`}; RBAC prediction: ${c.equal ? 'equal' : describeMismatch(c)}`,
    };
  },
  replay: '',
};

// --- mutant 2: exec granted to a group without the right ---------------------------------------------
const EXEC_NS = 'cde-frontend';
const execRole = { ...secretRole, metadata: { ...secretRole.metadata, name: `pci-mutant-exec-${nonce}`, namespace: EXEC_NS }, rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] }] };
const execBinding = { ...secretBinding, metadata: { ...secretBinding.metadata, name: `pci-mutant-exec-${nonce}`, namespace: EXEC_NS }, roleRef: { ...secretBinding.roleRef, name: execRole.metadata.name } };
let execTarget = { pod: '', container: '' };
let execCount = 0;
let grantedExecAudit: LiveResult | undefined;

const rbacExec: GuardMutant = {
  id: 'rbac-exec-grant',
  requirement: '7.2.2',
  description: `grant Group pci-operators (no exec right in the access table) pods/exec in ${EXEC_NS}`,
  objects: [`Role/${EXEC_NS}/${execRole.metadata.name}`, `RoleBinding/${EXEC_NS}/${execBinding.metadata.name}`],
  async weaken() {
    await cluster.kubectl(['create', '-f', '-'], { input: [execRole, execBinding].map((d) => stringify(d)).join('---\n') });
  },
  async restore() {
    await cluster.kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], { input: [execBinding, execRole].map((d) => stringify(d)).join('---\n'), reject: false });
  },
  async probe(phase) {
    const cmd = `/pci-mutant-exec-${nonce}-${execCount++}`;
    const r = await cluster.kubectl(['exec', '-n', EXEC_NS, execTarget.pod, '-c', execTarget.container, ...operators.args, '--', cmd], { reject: false, timeoutMs: 30_000 });
    const forbidden = /forbidden/i.test(r.stderr);
    const permitted = /no such file|executable file not found|OCI runtime exec failed/.test(r.stderr);
    if (permitted && phase === 'weakened' && !grantedExecAudit) {
      // Where exec IS granted, it must be audited at Request with the user, pod and container (10.2.1.2).
      const e = await audit.find((x) => x.stage === 'ResponseComplete' && x.objectRef?.subresource === 'exec' && x.requestURI.includes(encodeURIComponent(cmd)) && actingUser(x).username === operators.user);
      const ok = !!e && e.level === 'Request' && ['get', 'create'].includes(e.verb) && e.objectRef?.name === execTarget.pod && e.requestURI.includes(`container=${execTarget.container}`) && !!actingUser(e).groups?.includes('pci-operators') && e.annotations?.['authorization.k8s.io/decision'] === 'allow';
      grantedExecAudit = {
        lane: 'live',
        check: 'live.audit.events',
        requirement: '10.2.1.2',
        status: ok ? 'pass' : 'fail',
        scenario: 'mutant.rbac-exec-grant',
        adversary: `insider Group pci-operators granted exec by the mutant (impersonated as user ${operators.user})`,
        action: `exec into ${EXEC_NS}/${execTarget.pod} container ${execTarget.container}`,
        predicted: 'logged',
        observed: e ? 'logged' : 'not-logged',
        layer: { kind: 'audit', names: ['pci-audit-policy'] },
        object: `Pod/${EXEC_NS}/${execTarget.pod}`,
        message: e ? `granted exec (verb ${e.verb}, decision ${e.annotations?.['authorization.k8s.io/decision']}) audited at ${e.level} as ${actingUser(e).username} [${actingUser(e).groups?.join(', ')}], pod ${e.objectRef?.name}, container ${execTarget.container}` : 'the granted exec is not in the audit log',
        evidence: auditExcerpt(e, audit.dir),
        replay: `${k()} exec -n ${EXEC_NS} ${execTarget.pod} -c ${execTarget.container} ${operators.args.join(' ')} -- ${cmd}`,
        ...(ok ? {} : { finding: 'an exec granted to a human group is not audited at Request with user, pod and container (10.2.1.2)' }),
      };
    }
    return { green: forbidden, detail: `exec into ${EXEC_NS}/${execTarget.pod} as pci-operators: ${forbidden ? '403' : permitted ? 'PERMITTED (7.2.2)' : `unclear: ${redactCredentials(r.stderr.trim().split('\n')[0] ?? '')}`}` };
  },
  replay: '',
};

// --- mutant 3: the CDE taint removed from the CDE node ------------------------------------------------
let cdeNodes: string[] = [];
let taintPods = 0;
const taintSpec = `${TAINT.key}=${TAINT.value}:${TAINT.effect}`;
const cdeTaint: GuardMutant = {
  id: 'cde-taint-removed',
  requirement: '2.2.3',
  description: `remove the CDE taint ${taintSpec} from the CDE node(s)`,
  objects: [],
  async weaken() {
    for (const n of cdeNodes) await cluster.kubectl(['taint', 'nodes', n, `${TAINT.key}:${TAINT.effect}-`]);
  },
  async restore() {
    for (const n of cdeNodes) {
      const r = await cluster.kubectl(['taint', 'nodes', n, taintSpec, '--overwrite'], { reject: false });
      if (r.exitCode !== 0) throw new Error(`could not restore the taint on ${n}: ${r.stderr.trim()}`);
    }
  },
  async probe() {
    // The cde-nodes observation: a pod in default that selects the CDE label, no toleration.
    const name = `mutant-taint-${nonce}-${taintPods++}`;
    const pod = harnessPod({ namespace: 'default', name, image: cluster.images.cdeServerImage, args: ['--listen', '8080'], nodeSelector: { ...LABEL } });
    await cluster.kubectl(['create', '-f', '-'], { input: stringify(pod) });
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const p = JSON.parse((await cluster.kubectl(['get', 'pod', name, '-n', 'default', '-o', 'json'])).stdout) as { spec: { nodeName?: string }; status: { conditions?: Array<{ type: string; status: string; reason?: string }> } };
        const sched = p.status.conditions?.find((c) => c.type === 'PodScheduled');
        if (p.spec.nodeName) return { green: !cdeNodes.includes(p.spec.nodeName), detail: `default/${name} (no toleration) scheduled on ${p.spec.nodeName}${cdeNodes.includes(p.spec.nodeName) ? ' — a CDE node (2.2.3)' : ''}` };
        if (sched?.status === 'False' && sched.reason === 'Unschedulable') return { green: true, detail: `default/${name} (no toleration) Unschedulable: the taint holds` };
        if (Date.now() > deadline) return { green: true, detail: `default/${name} not scheduled within 15 s` };
        await sleep(500);
      }
    } finally {
      await deletePod(cluster, 'default', name);
    }
  },
  replay: '',
};

// --- mutant 4: PSA label downgraded on a CDE namespace ------------------------------------------------
let psaOriginal = '';
let psaPods = 0;
const psaDowngrade: GuardMutant = {
  id: 'psa-downgraded',
  requirement: '2.2.1',
  description: `set pod-security.kubernetes.io/enforce=privileged on Namespace ${PSA_NS}`,
  objects: [`Namespace/${PSA_NS}`],
  async weaken() {
    await cluster.kubectl(['label', 'namespace', PSA_NS, 'pod-security.kubernetes.io/enforce=privileged', '--overwrite']);
  },
  async restore() {
    const r = await cluster.kubectl(['label', 'namespace', PSA_NS, `pod-security.kubernetes.io/enforce=${psaOriginal}`, '--overwrite'], { reject: false });
    if (r.exitCode !== 0) throw new Error(`could not restore the PSA label of ${PSA_NS}: ${r.stderr.trim()}`);
  },
  async probe() {
    // What only PSA refuses (the set's Kyverno rules say nothing about SELinux): a container asking for the
    // unconfined SELinux type spc_t (baseline allows only the container_* types). Server dry run: full admission, no object.
    const cap = harnessPod({ namespace: PSA_NS, name: `mutant-psa-selinux-${nonce}-${psaPods}`, image: cluster.images.cdeServerImage, args: ['--listen', '8080'], nodeSelector: { ...LABEL }, tolerations: [{ key: TAINT.key, operator: 'Equal', value: TAINT.value, effect: TAINT.effect }] });
    ((cap.spec as { containers: Array<{ securityContext: Record<string, unknown> }> }).containers[0]!.securityContext).seLinuxOptions = { type: 'spc_t' };
    // And a privileged container: Kyverno must still refuse it (defence in depth), whatever PSA says.
    const priv = structuredClone(cap);
    (priv.metadata as { name: string }).name = `mutant-psa-priv-${nonce}-${psaPods++}`;
    Object.assign((priv.spec as { containers: Array<{ securityContext: Record<string, unknown> }> }).containers[0]!.securityContext, { privileged: true, allowPrivilegeEscalation: true });
    const a = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: stringify(cap), reject: false });
    const b = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: stringify(priv), reject: false });
    const capByPsa = a.exitCode !== 0 && PSA_DENIAL.test(a.stderr);
    const privRejected = b.exitCode !== 0;
    const privBy = PSA_DENIAL.test(b.stderr) ? 'PSA' : /kyverno/i.test(b.stderr) ? 'Kyverno' : privRejected ? 'another layer' : 'nobody';
    return {
      green: capByPsa && privRejected,
      detail: `SELinux spc_t pod in ${PSA_NS}: ${capByPsa ? 'rejected by PSA restricted:v1.34' : a.exitCode === 0 ? 'ADMITTED (2.2.1)' : `rejected, not by PSA: ${redactCredentials(a.stderr.trim().slice(0, 200))}`}; privileged pod: rejected by ${privBy}`,
    };
  },
  replay: '',
};


// --- mutants 5-9: the pipeline's guards (Kyverno rules, the node boundary, the deployer Role) ------------
const PIPE_NS = 'cde-processing';
let pipeline: ActingIdentity;
let tenant: ActingIdentity;
let probes = 0;

/** The live object as it is now, and a restore that puts exactly that back (kubectl replace, no resourceVersion precondition). */
async function snapshot(kind: string, name: string, namespace?: string): Promise<() => Promise<void>> {
  const ns = namespace ? ['-n', namespace] : [];
  const o = JSON.parse((await cluster.kubectl(['get', kind, name, ...ns, '-o', 'json'])).stdout) as { metadata: Record<string, unknown>; status?: unknown };
  const { name: n, namespace: nsName, labels, annotations } = o.metadata as Record<string, unknown>;
  o.metadata = { name: n, ...(nsName ? { namespace: nsName } : {}), ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) };
  delete o.status;
  const body = JSON.stringify(o);
  return async () => {
    const r = await cluster.kubectl(['replace', '-f', '-'], { input: body, reject: false });
    if (r.exitCode !== 0) throw new Error(`could not restore ${kind} ${name}: ${r.stderr.trim()}`);
  };
}

const jsonPatch = (kind: string, name: string, ops: unknown[], namespace?: string) => cluster.kubectl(['patch', kind, name, ...(namespace ? ['-n', namespace] : []), '--type=json', '-p', JSON.stringify(ops)]);

/** A pipeline deploy (server dry run, its own certificate): green while Kyverno refuses it with `rule`. */
async function pipelineDeployRefused(pathId: string, rule: string): Promise<Probe> {
  const path = UNSAFE_PATHS.find((p) => p.id === pathId)!;
  const name = `mutant-${pathId}-${nonce}-${probes++}`;
  const pod = harnessPod({ namespace: PIPE_NS, name, image: cluster.images.cdeServerImage, args: ['--listen', '8080'], nodeSelector: { ...LABEL }, tolerations: [{ key: TAINT.key, operator: 'Equal', value: TAINT.value, effect: TAINT.effect }] });
  const r = await pipeline.kubectl(['create', '--dry-run=server', '-f', '-'], { input: stringify(asKind(weakened(pod, path, name), 'Deployment')), reject: false });
  const o = readAdmission(r.exitCode, `${r.stdout}\n${r.stderr}`);
  const green = o.verdict === 'rejected' && o.kyvernoRules.some((x) => x.endsWith(`/autogen-${rule}`));
  return { green, detail: `the pipeline's Deployment with ${path.what}: ${o.verdict === 'admitted' ? 'ADMITTED' : o.verdict}${o.kyvernoRules.length ? ` by ${o.kyvernoRules.join(', ')}` : o.layer ? ` by ${o.layer}` : ''}` };
}

function policyRuleMutant(id: string, requirement: string, policy: string, rule: string, description: string, ops: (ruleIndex: number) => unknown[], probe: () => Promise<Probe>): GuardMutant {
  let restore: (() => Promise<void>) | undefined;
  return {
    id,
    requirement,
    description,
    objects: [`ClusterPolicy/${policy} rule ${rule}`],
    async weaken() {
      restore = await snapshot('clusterpolicy', policy);
      const live = JSON.parse((await cluster.kubectl(['get', 'clusterpolicy', policy, '-o', 'json'])).stdout) as { spec: { rules: Array<{ name: string }> } };
      const i = live.spec.rules.findIndex((r) => r.name === rule);
      if (i < 0) throw new Error(`rule ${rule} not found in ClusterPolicy ${policy}`);
      await jsonPatch('clusterpolicy', policy, ops(i));
    },
    async restore() {
      await restore?.();
    },
    probe,
    replay: `kubectl get clusterpolicy ${policy} -o json > saved.json; kubectl patch clusterpolicy ${policy} --type=json -p '<weakening>'; <the probe>; kubectl replace -f saved.json`,
  };
}

const kyvernoAudit = policyRuleMutant('kyverno-rule-audit', '2.2.6', 'cde-pod-security-requirements', 'require-readonly-root-filesystem', 'switch cde-pod-security-requirements/require-readonly-root-filesystem to Audit', (i) => [{ op: 'replace', path: `/spec/rules/${i}/validate/failureAction`, value: 'Audit' }], () => pipelineDeployRefused('writable-root', 'require-readonly-root-filesystem'));

const registryWidened = policyRuleMutant(
  'registry-widened',
  '6.3.2',
  'cde-pod-security-requirements',
  'require-cde-image-registry',
  'widen require-cde-image-registry to also allow docker.io/*',
  (i) => ['ephemeralContainers', 'initContainers', 'containers'].map((list) => ({ op: 'replace', path: `/spec/rules/${i}/validate/pattern/spec/${list === 'containers' ? 'containers' : `=(${list})`}/0/image`, value: 'registry.pci.internal:5000/pci/* | docker.io/*' })),
  () => pipelineDeployRefused('foreign-registry', 'require-cde-image-registry'),
);

let tenantPods = 0;
const nodeIsolationAudit = policyRuleMutant('node-isolation-audit', '2.2.3', 'cde-node-isolation', 'no-cde-toleration-outside-cde', 'switch cde-node-isolation/no-cde-toleration-outside-cde to Audit', (i) => [{ op: 'replace', path: `/spec/rules/${i}/validate/failureAction`, value: 'Audit' }], async () => {
  // The cde-nodes observation: a tenant pod in default with the CDE toleration (server dry run: nothing is scheduled).
  const name = `mutant-tenant-${nonce}-${tenantPods++}`;
  const pod = harnessPod({ namespace: 'default', name, image: cluster.images.cdeServerImage, args: ['--listen', '8080'], tolerations: [{ key: TAINT.key, operator: 'Equal', value: TAINT.value, effect: TAINT.effect }] });
  const r = await tenant.kubectl(['create', '--dry-run=server', '-f', '-'], { input: stringify(pod), reject: false });
  const o = readAdmission(r.exitCode, `${r.stdout}\n${r.stderr}`);
  const green = o.verdict === 'rejected' && o.kyvernoRules.includes('cde-node-isolation/no-cde-toleration-outside-cde');
  return { green, detail: `tenant pod in default with the CDE toleration: ${o.verdict === 'admitted' ? 'ADMITTED (it may land on the CDE node)' : `${o.verdict} by ${o.kyvernoRules.join(', ') || o.layer}`}` };
});

function deployerGrantMutant(id: string, rule: Record<string, unknown>, description: string, probe: () => Promise<Probe>): GuardMutant {
  let restore: (() => Promise<void>) | undefined;
  return {
    id,
    requirement: '7.2.2',
    description,
    objects: [`Role/${PIPE_NS}/pci-deployer`],
    async weaken() {
      restore = await snapshot('role', 'pci-deployer', PIPE_NS);
      await jsonPatch('role', 'pci-deployer', [{ op: 'add', path: '/rules/-', value: rule }], PIPE_NS);
    },
    async restore() {
      await restore?.();
    },
    probe,
    replay: `kubectl get role pci-deployer -n ${PIPE_NS} -o json > saved.json; kubectl patch role pci-deployer -n ${PIPE_NS} --type=json -p '[{"op":"add","path":"/rules/-","value":${JSON.stringify(rule)}}]'; <the probe>; kubectl replace -f saved.json`,
  };
}

const deployerRoleBindings = deployerGrantMutant('deployer-rolebindings', { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['create'] }, `grant the deployer Role in ${PIPE_NS} rolebindings create`, async () => {
  // The pipeline-tampering observation: bind itself to admin (server dry run: nothing is stored).
  const r = await pipeline.kubectl(['create', 'rolebinding', `mutant-pwn-${nonce}`, '-n', PIPE_NS, '--clusterrole=admin', `--group=${DEPLOYER_GROUP}`, '--dry-run=server'], { reject: false });
  const o = readAdmission(r.exitCode, `${r.stdout}\n${r.stderr}`);
  return { green: o.layer === 'rbac', detail: `the pipeline binds itself to admin in ${PIPE_NS}: ${o.verdict === 'admitted' ? 'PERMITTED (7.2.2)' : `${o.verdict} by ${o.layer}`}` };
});

const deployerDebug = deployerGrantMutant('deployer-debug', { apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch', 'update'] }, `grant the deployer Role in ${PIPE_NS} pods/ephemeralcontainers`, async () => {
  const pods = (JSON.parse((await cluster.kubectl(['get', 'pods', '-n', PIPE_NS, '-l', 'app=card-processor', '--field-selector=status.phase=Running', '-o', 'json'])).stdout) as { items: Array<{ metadata: { name: string } }> }).items;
  if (!pods[0]) throw new Error(`no running card-processor pod in ${PIPE_NS}`);
  const r = await pipeline.kubectl(['debug', '-n', PIPE_NS, pods[0].metadata.name, `--image=${cluster.images.cdeServerImage}`, '--profile=sysadmin', `--container=mutant-dbg-${nonce}-${probes++}`, '--', '/server'], { reject: false, timeoutMs: 60_000 });
  const o = readAdmission(r.exitCode, `${r.stdout}\n${r.stderr}`);
  return { green: o.layer === 'rbac', detail: `the pipeline's kubectl debug --profile=sysadmin: ${o.verdict === 'admitted' ? 'ADDED A PRIVILEGED CONTAINER' : `${o.verdict} by ${o.layer}`}${o.layer === 'psa' ? ' (RBAC let it through; PSA caught it)' : ''}` };
});

// --- mutants 10-12: the assessor's rows see the same weakenings ---------------------------------------
// The rows below read no sentinel Secret; the name is there because the rows' environment has one.
const assessorEnv = { sentinel: { name: `guard-mutants-no-sentinel-${nonce}`, value: '' } } as AssessorEnv;
const { table, failures } = assessorRows(assessorEnv);
const ROWS = new Map([...table, ...failures].map((r) => [r.id, r]));

/** The same weakening, judged by the assessor's rows instead: green while every named row passes. */
function seenByAssessor(m: GuardMutant, rowIds: string[]): GuardMutant {
  const rows = rowIds.map((id) => {
    const r = ROWS.get(id);
    if (!r) throw new Error(`no assessor row ${id}`);
    return r;
  });
  return {
    ...m,
    id: `${m.id}+assessor`,
    description: `${m.description}, as the assessor's rows ${rowIds.join(', ')} see it`,
    async probe() {
      const seen = await Promise.all(rows.map(async (r) => ({ id: r.id, e: await r.run() })));
      return { green: seen.every((x) => x.e.verdict === 'pass'), detail: seen.map((x) => `${x.id}: ${x.e.verdict} — ${x.e.reason}`).join('; ') };
    },
  };
}

const ASSESSOR_MUTANTS = [
  seenByAssessor(psaDowngrade, ['table-2.2.1-psa-labels']),
  seenByAssessor(kyvernoAudit, ['table-2.2.6-kyverno-enforcing', 'failure-2-kyverno-enforcing']),
  seenByAssessor(rbacSecrets, ['failure-5-secret-grants-by-subject']),
];

const MUTANTS = [rbacSecrets, rbacExec, cdeTaint, psaDowngrade, kyvernoAudit, registryWidened, nodeIsolationAudit, deployerRoleBindings, deployerDebug, ...ASSESSOR_MUTANTS];

beforeAll(async () => {
  cluster = sharedCluster();
  audit = new AuditLogReader(cluster.workDir ? join(cluster.workDir, 'audit') : '');
  assessorEnv.cluster = cluster;
  assessorEnv.audit = audit;
  pipeline = await clientCertIdentity(cluster, `ci-pipeline-mutant-${nonce}`, [DEPLOYER_GROUP]);
  tenant = await tenantIdentity(cluster, `tenant-mutant-${nonce}`, ['default']);
  const nodes = JSON.parse((await cluster.kubectl(['get', 'nodes', '-o', 'json'])).stdout) as { items: Array<{ metadata: { name: string; labels?: Record<string, string> } }> };
  cdeNodes = nodes.items.filter((n) => Object.entries(LABEL).every(([key, v]) => n.metadata.labels?.[key] === v)).map((n) => n.metadata.name);
  cdeTaint.objects = cdeNodes.map((n) => `Node/${n} taint ${taintSpec}`);
  const pods = (JSON.parse((await cluster.kubectl(['get', 'pods', '-n', EXEC_NS, '--field-selector=status.phase=Running', '-o', 'json'])).stdout) as { items: Array<{ metadata: { name: string; ownerReferences?: unknown[]; deletionTimestamp?: string }; spec: { containers: Array<{ name: string }> } }> }).items.filter((p) => p.metadata.ownerReferences?.length && !p.metadata.deletionTimestamp);
  if (!pods[0]) throw new Error(`INCONCLUSIVE: no running workload pod in ${EXEC_NS}`);
  execTarget = { pod: pods[0].metadata.name, container: pods[0].spec.containers[0]!.name };
  psaOriginal = (await cluster.kubectl(['get', 'namespace', PSA_NS, '-o', `jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}`])).stdout.trim();
  if (!psaOriginal) throw new Error(`INCONCLUSIVE: Namespace ${PSA_NS} has no PSA enforce label to weaken`);
  rbacSecrets.replay = `${k()} create -f - <<'EOF'\n${[secretRole, secretBinding].map((d) => stringify(d)).join('---\n')}EOF\n${k()} get --raw /api/v1/namespaces/${SECRET_NS}/secrets ${operators.args.join(' ')}; ${k()} delete rolebinding,role -n ${SECRET_NS} ${secretRole.metadata.name}`;
  rbacExec.replay = `${k()} create -f - <<'EOF'\n${[execRole, execBinding].map((d) => stringify(d)).join('---\n')}EOF\n${k()} exec -n ${EXEC_NS} ${execTarget.pod} ${operators.args.join(' ')} -- /x; ${k()} delete rolebinding,role -n ${EXEC_NS} ${execRole.metadata.name}`;
  cdeTaint.replay = `${cdeNodes.map((n) => `${k()} taint nodes ${n} ${TAINT.key}:${TAINT.effect}-`).join('; ')}; ${k()} run taint-probe -n default --image=${cluster.images.cdeServerImage} --overrides='{"spec":{"nodeSelector":${JSON.stringify(LABEL)}}}'; ${cdeNodes.map((n) => `${k()} taint nodes ${n} ${taintSpec}`).join('; ')}`;
  psaDowngrade.replay = `${k()} label namespace ${PSA_NS} pod-security.kubernetes.io/enforce=privileged --overwrite; <create a pod with seLinuxOptions.type spc_t in ${PSA_NS} with --dry-run=server>; ${k()} label namespace ${PSA_NS} pod-security.kubernetes.io/enforce=${psaOriginal} --overwrite`;
});

afterAll(async () => {
  // Belt and braces: whatever a crash skipped, the cluster goes back to the set.
  if (!cluster) return;
  await rbacSecrets.restore().catch(() => {});
  await rbacExec.restore().catch(() => {});
  if (cdeNodes.length) await cdeTaint.restore().catch((e) => process.stderr.write(`guard-mutants: ${(e as Error).message}\n`));
  if (psaOriginal) await psaDowngrade.restore().catch((e) => process.stderr.write(`guard-mutants: ${(e as Error).message}\n`));
  for (const m of [kyvernoAudit, registryWidened, nodeIsolationAudit, deployerRoleBindings, deployerDebug]) await m.restore().catch((e) => process.stderr.write(`guard-mutants: ${(e as Error).message}\n`));
  await pipeline?.[Symbol.asyncDispose]();
  await tenant?.[Symbol.asyncDispose]();
  const lines = verdicts.map((v) => `  ${v.verdict.padEnd(22)} ${v.id.padEnd(22)} [${v.requirement}] ${(v.ms / 1000).toFixed(1)} s`);
  process.stdout.write(`\nguard mutants (live):\n${lines.join('\n')}\n`);
});

describe('live mutants: weaken the insider, node-pool and admission guards, see them turn red, restore', () => {
  for (const m of MUTANTS) {
    it(`${m.id} [${m.requirement}]: ${m.description} → red, then green after restore`, async () => {
      const r = await runMutant(m);
      recordLiveResults([r]);
      if (m === rbacExec && grantedExecAudit) recordLiveResults([grantedExecAudit]);
      process.stdout.write(`${r.message}\n`);
      expect(r.status, explain(r)).toBe('pass');
      if (m === rbacExec) {
        expect(grantedExecAudit, 'the granted exec was never observed').toBeDefined();
        expect(grantedExecAudit!.status, explain(grantedExecAudit!)).toBe('pass');
      }
    });
  }
});
