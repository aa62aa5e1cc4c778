import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../harness/cluster/provider.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import { auditExcerpt, AuditLogReader, type AuditEvent } from '../../../harness/scenario/audit-log.ts';
import { clientCertIdentity, type ActingIdentity } from '../../../harness/scenario/identities.ts';
import { DEPLOYER_GROUP, pipelineModel, type AuditRequestOf } from '../../../harness/scenario/pipeline.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';

/**
 * Adversary 2, the compromised CI pipeline, goes for the guards. It holds its
 * OWN credentials — a client certificate for user ci-pipeline-<run> in group
 * pci-deployers, issued by the cluster CA (no impersonation: the audit log
 * names the pipeline itself) — and the set gives that group exactly what a
 * CD pipeline needs: workloads, Services and ConfigMaps in the CDE
 * namespaces (manifests/cluster/20-rbac.yaml, declared in
 * manifests/spec/access.yaml). With it the attacker tries to switch the
 * guards off: bind itself to admin, mint a ClusterRole, relax or delete a
 * Kyverno policy, cut the Kyverno webhook, take a CDE namespace out of scope
 * or out of PSA, run a pod in kube-system, mint another workload's token,
 * delete the default-deny, exec into a CDE pod.
 *
 * Every verdict is predicted by the offline RBAC model (the grants of the
 * set, as rbac.least-privilege computes them) and every attempt must be in
 * the audit log as this user, 403, at the level the set's audit policy
 * gives that request (audit.levels' evaluator). The control: what the
 * pipeline IS granted works with the same credentials (the 403s are not
 * blanket).
 */
const SCENARIO = 'pipeline.tampering';
const nonce = randomBytes(3).toString('hex');
const USER = `ci-pipeline-${nonce}`;
const NS = 'cde-processing';
const model = pipelineModel(USER);

interface Attempt {
  id: string;
  /** What the attacker is after, in a sentence. */
  goal: string;
  kubectl: string[];
  input?: string;
  /** The request the API server sees (for the RBAC prediction and the audit match). */
  request: AuditRequestOf;
  requirement: string;
}

const attempts: Attempt[] = [
  { id: 'bind-admin', goal: 'bind itself to the admin ClusterRole in the CDE', kubectl: ['create', 'rolebinding', `pwn-${nonce}`, '-n', NS, '--clusterrole=admin', `--group=${DEPLOYER_GROUP}`], request: { verb: 'create', apiGroup: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace: NS }, requirement: '7.2.2' },
  { id: 'mint-clusterrole', goal: 'create a ClusterRole that reads every Secret', kubectl: ['create', 'clusterrole', `pwn-${nonce}`, '--verb=get,list', '--resource=secrets'], request: { verb: 'create', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles' }, requirement: '7.2.2' },
  // PUT of a whole object (kubectl replace --raw): one request, no GET first, authorized before its body is read.
  { id: 'empty-kyverno-policy', goal: 'replace the CDE pod-security policy with one that has no rules', kubectl: ['replace', '--raw', '/apis/kyverno.io/v1/clusterpolicies/cde-pod-security-requirements', '-f', '-'], input: JSON.stringify({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'cde-pod-security-requirements' }, spec: { rules: [] } }), request: { verb: 'update', apiGroup: 'kyverno.io', resource: 'clusterpolicies', name: 'cde-pod-security-requirements' }, requirement: '7.2.2' },
  { id: 'delete-node-isolation', goal: 'delete the CDE node-isolation policy', kubectl: ['delete', 'clusterpolicy', 'cde-node-isolation', '--wait=false'], request: { verb: 'delete', apiGroup: 'kyverno.io', resource: 'clusterpolicies', name: 'cde-node-isolation' }, requirement: '7.2.2' },
  { id: 'cut-webhook', goal: "empty Kyverno's Fail webhook configuration (admission without Kyverno)", kubectl: ['replace', '--raw', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/kyverno-resource-validating-webhook-cfg', '-f', '-'], input: JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'kyverno-resource-validating-webhook-cfg' }, webhooks: [] }), request: { verb: 'update', apiGroup: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations', name: 'kyverno-resource-validating-webhook-cfg' }, requirement: '7.2.2' },
  // A Namespace's own namespace attribute is its name, for RBAC and in the audit event alike.
  { id: 'unscope-namespace', goal: `take ${NS} out of scope (its labels without pci-scope: every CDE policy stops matching)`, kubectl: ['replace', '--raw', `/api/v1/namespaces/${NS}`, '-f', '-'], input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }), request: { verb: 'update', apiGroup: '', resource: 'namespaces', namespace: NS, name: NS }, requirement: '7.2.2' },
  { id: 'downgrade-psa', goal: `set ${NS}'s Pod Security enforce label to privileged`, kubectl: ['replace', '--raw', `/api/v1/namespaces/${NS}`, '-f', '-'], input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pci-scope': 'in-scope', 'pod-security.kubernetes.io/enforce': 'privileged' } } }), request: { verb: 'update', apiGroup: '', resource: 'namespaces', namespace: NS, name: NS }, requirement: '7.2.2' },
  { id: 'pod-in-kube-system', goal: 'run a pod in kube-system (no PSA, no CDE policy, node-agent exemptions)', kubectl: ['create', '-f', '-'], request: { verb: 'create', apiGroup: '', resource: 'pods', namespace: 'kube-system' }, requirement: '7.2.2' },
  { id: 'mint-token', goal: "mint a token for card-processor's ServiceAccount", kubectl: ['create', 'token', 'card-processor', '-n', NS], request: { verb: 'create', apiGroup: '', resource: 'serviceaccounts', subresource: 'token', namespace: NS, name: 'card-processor' }, requirement: '7.2.2' },
  { id: 'delete-default-deny', goal: `delete ${NS}'s default-deny NetworkPolicy`, kubectl: ['delete', 'networkpolicy', 'default-deny-all', '-n', NS, '--wait=false'], request: { verb: 'delete', apiGroup: 'networking.k8s.io', resource: 'networkpolicies', namespace: NS, name: 'default-deny-all' }, requirement: '7.2.2' },
];

let cluster: Cluster;
let audit: AuditLogReader;
let pipeline: ActingIdentity;

beforeAll(async () => {
  try {
    cluster = sharedCluster();
    audit = new AuditLogReader(cluster.workDir ? join(cluster.workDir, 'audit') : '');
    pipeline = await clientCertIdentity(cluster, USER, [DEPLOYER_GROUP]);
  } catch (e) {
    throw new Error(`INCONCLUSIVE: ${SCENARIO} set-up failed (no observation was made): ${redactCredentials((e as Error).message)}`);
  }
  const kubeSystemPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pwn-${nonce}`, namespace: 'kube-system' },
    spec: { hostNetwork: true, containers: [{ name: 'x', image: cluster.images.probeImage, securityContext: { privileged: true } }] },
  };
  attempts.find((a) => a.id === 'pod-in-kube-system')!.input = JSON.stringify(kubeSystemPod);
});

afterAll(async () => {
  await pipeline?.[Symbol.asyncDispose]();
  // Whatever a wrong verdict let through must not outlive this file (the cluster is shared).
  await cluster?.kubectl(['delete', 'rolebinding', `pwn-${nonce}`, '-n', NS, '--ignore-not-found'], { reject: false });
  await cluster?.kubectl(['delete', 'clusterrole', `pwn-${nonce}`, '--ignore-not-found'], { reject: false });
  await cluster?.kubectl(['delete', 'pod', `pwn-${nonce}`, '-n', 'kube-system', '--ignore-not-found', '--wait=false'], { reject: false });
});

const matches = (a: Attempt) => (e: AuditEvent) =>
  e.stage === 'ResponseComplete' &&
  e.user?.username === USER &&
  e.verb === a.request.verb &&
  (e.objectRef?.resource ?? '') === a.request.resource &&
  (e.objectRef?.subresource ?? '') === (a.request.subresource ?? '') &&
  (e.objectRef?.namespace ?? '') === (a.request.namespace ?? '') &&
  (a.request.name === undefined || e.objectRef?.name === a.request.name);

describe('adversary 2: a compromised CI pipeline, with its own credentials, tries to switch the guards off', () => {
  it('the pipeline identity is declared in the access table (else nothing below proves anything)', () => {
    expect(model.declared, `no Group ${DEPLOYER_GROUP} in manifests/spec/access.yaml`).toBe(true);
  });

  it('control: with the same credentials the pipeline does what it is granted (create and delete a ConfigMap in the CDE)', async () => {
    const name = `pipeline-control-${nonce}`;
    const predicted = model.mayDo(NS, { verb: 'create', apiGroup: '', resource: 'configmaps' });
    const r = await pipeline.kubectl(['create', 'configmap', name, '-n', NS, '--from-literal=build=ok'], { reject: false });
    await cluster.kubectl(['delete', 'configmap', name, '-n', NS, '--ignore-not-found'], { reject: false });
    const observed = r.exitCode === 0 ? 'permitted' : /forbidden/i.test(r.stderr) ? 'forbidden' : 'check-failed';
    const res: LiveResult = {
      lane: 'live',
      check: 'live.rbac.pipeline',
      requirement: '7.2.2',
      status: observed === 'check-failed' ? 'inconclusive' : predicted && observed === 'permitted' ? 'pass' : 'fail',
      scenario: SCENARIO,
      adversary: `CI pipeline ${USER} (client certificate, group ${DEPLOYER_GROUP})`,
      action: `create ConfigMap ${NS}/${name}`,
      predicted: predicted ? 'permitted' : 'forbidden',
      observed,
      layer: { kind: 'rbac', names: predicted ? [predicted] : ['no grant'] },
      message: `the pipeline's own grant works: predicted ${predicted ? `permitted (${predicted})` : 'forbidden'}, observed ${observed}`,
      evidence: redactCredentials(`${r.stdout}${r.stderr}`.trim().slice(0, 400)),
      replay: pipeline.replay(`create configmap ${name} -n ${NS} --from-literal=build=ok`),
    };
    recordLiveResults([res]);
    expect(res.status, explain(res)).toBe('pass');
  });

  for (const a of attempts) {
    it(`${a.id}: the pipeline tries to ${a.goal} — forbidden by RBAC and audited as the pipeline`, async () => {
      const grant = model.mayDo(a.request.namespace ?? '', { verb: a.request.verb, apiGroup: a.request.apiGroup, resource: a.request.subresource ? `${a.request.resource}/${a.request.subresource}` : a.request.resource, name: a.request.name });
      const predicted = grant ? 'permitted' : 'forbidden';
      const level = model.auditLevel(a.request);
      const r = await pipeline.kubectl(a.kubectl, { reject: false, timeoutMs: 30_000, ...(a.input ? { input: a.input } : {}) });
      const text = redactCredentials(`${r.stderr}`.trim().split('\n')[0] ?? '');
      const observed = r.exitCode === 0 ? 'permitted' : /forbidden/i.test(r.stderr) ? 'forbidden' : 'check-failed';
      const e = await audit.find(matches(a), 30_000);
      const auditOk = !!e && e.responseStatus?.code === (predicted === 'forbidden' ? 403 : 200) && e.level === level.level && level.level !== 'None' && !!e.user?.groups?.includes(DEPLOYER_GROUP) && !!e.requestReceivedTimestamp;
      const replay = pipeline.replay(`${a.kubectl.join(' ')}${a.input ? ` <<'EOF'\n${a.input}\nEOF` : ''}`);
      const where = a.request.namespace ? ` in ${a.request.namespace}` : ' (cluster scope)';
      const rbac: LiveResult = {
        lane: 'live',
        check: 'live.rbac.pipeline',
        requirement: a.requirement,
        status: observed === 'check-failed' ? 'inconclusive' : observed === predicted && predicted === 'forbidden' ? 'pass' : 'fail',
        scenario: SCENARIO,
        adversary: `CI pipeline ${USER} (client certificate, group ${DEPLOYER_GROUP})`,
        action: `${a.request.verb} ${a.request.resource}${a.request.subresource ? `/${a.request.subresource}` : ''}${a.request.name ? ` ${a.request.name}` : ''}${where}: ${a.goal}`,
        predicted,
        observed,
        layer: { kind: 'rbac', names: [grant ?? `no binding grants ${DEPLOYER_GROUP} this (access table)`] },
        message: `${a.id}: predicted ${predicted}${grant ? ` (${grant})` : ''}, observed ${observed}`,
        evidence: observed === 'permitted' ? `kubectl exit 0: ${redactCredentials(r.stdout.trim().slice(0, 300))}` : `kubectl exit ${r.exitCode}: ${text}`,
        replay,
        ...(observed === 'permitted' ? { finding: `the CI pipeline can ${a.goal}: ${grant ? `the set grants it (${grant})` : 'a binding outside the set grants it'} — a compromised pipeline disables the guard (7.2.2)` } : predicted === 'permitted' ? { finding: `the access table grants the pipeline this (${grant}); the set should not` } : {}),
      };
      const logged: LiveResult = {
        lane: 'live',
        check: 'live.audit.events',
        requirement: '10.2.1.4',
        status: e ? (auditOk ? 'pass' : 'fail') : 'fail',
        scenario: SCENARIO,
        adversary: rbac.adversary,
        action: `find the ${a.id} attempt in the audit log`,
        predicted: 'logged',
        observed: e ? 'logged' : 'not-logged',
        layer: { kind: 'audit', names: [`audit policy rule ${level.ruleIndex} → ${level.level}`] },
        message: e
          ? `audited at ${e.level} (policy predicts ${level.level}): user ${e.user?.username} [${e.user?.groups?.join(', ')}] ${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}${where} at ${e.requestReceivedTimestamp} → ${e.responseStatus?.code}`
          : `no ResponseComplete event for ${USER} ${a.request.verb} ${a.request.resource}${where} within 30 s (the policy predicts ${level.level})`,
        evidence: auditExcerpt(e, audit.dir),
        replay,
        ...(auditOk ? {} : { finding: e ? `the attempt is audited, but not as predicted (level ${e.level} vs ${level.level}, code ${e.responseStatus?.code})` : `a tampering attempt by the CI pipeline is not in the audit log (10.2.1.4)` }),
      };
      recordLiveResults([rbac, logged]);
      expect(rbac.status, explain(rbac)).toBe('pass');
      expect(logged.status, explain(logged)).toBe('pass');
    });
  }
});
