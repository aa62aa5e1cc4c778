import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { deletePod, harnessPod } from '../../../harness/cluster/pods.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';

/**
 * Which admission layer rejects what, each layer isolated: a spec only PSA
 * refuses must not reach the Kyverno message, a spec only Kyverno refuses
 * must pass PSA, and a compliant control is admitted (the denials are not
 * blanket). The fuller CI-pipeline adversary builds on this.
 */
const suffix = randomBytes(2).toString('hex');
const PSA_DENIAL = /violates PodSecurity "restricted:v1\.34"/;
const KYVERNO_DENIAL = /admission webhook "validate\.kyverno\.svc-fail" denied the request/;

const base = (name: string, namespace = 'cde-processing') =>
  harnessPod({
    namespace,
    name: `${name}-${suffix}`,
    image: sharedCluster().images.cdeServerImage,
    args: ['--listen', '8080'],
    nodeSelector: { 'pci-scope': 'in-scope' },
    tolerations: [{ key: 'pci-scope', operator: 'Equal', value: 'in-scope', effect: 'NoSchedule' }],
  });
const container = (pod: Record<string, unknown>) => (pod.spec as { containers: Array<{ securityContext: Record<string, unknown> }> }).containers[0]!;

/** Create for real (a dry run skips nothing here, but a real create proves the object never exists) and judge. */
async function attempt(o: { id: string; check: 'live.admission.psa' | 'live.admission.kyverno'; requirement: string; pod: Record<string, unknown>; predicted: 'admitted' | 'rejected'; layer: LiveResult['layer']; must: RegExp[]; mustNot: RegExp[] }): Promise<LiveResult> {
  const cluster = sharedCluster();
  const meta = o.pod.metadata as { name: string; namespace: string };
  const r = await cluster.kubectl(['create', '-f', '-'], { input: stringify(o.pod), reject: false });
  if (r.exitCode === 0) await deletePod(cluster, meta.namespace, meta.name);
  const text = `${r.stdout}\n${r.stderr}`.trim();
  const observed = r.exitCode === 0 ? 'admitted' : /denied|forbidden|violates/i.test(text) ? 'rejected' : 'check-failed';
  const layerOk = o.must.every((m) => m.test(text)) && !o.mustNot.some((m) => m.test(text));
  const status = observed === 'check-failed' ? 'inconclusive' : observed === o.predicted && (observed === 'admitted' || layerOk) ? 'pass' : 'fail';
  return {
    lane: 'live',
    check: o.check,
    requirement: o.requirement,
    status,
    scenario: `admission.${o.id}`,
    adversary: 'a deploy into the CDE (cluster-admin credentials: admission is the only guard)',
    action: `create Pod ${meta.namespace}/${meta.name}`,
    predicted: o.predicted,
    observed,
    layer: o.layer,
    object: `Pod/${meta.namespace}/${meta.name}`,
    message: `${o.id}: predicted ${o.predicted} by ${o.layer.kind}${o.layer.names ? ` ${o.layer.names.join(',')}` : ''}, observed ${observed}${observed === 'rejected' && !layerOk ? ' — but NOT by the layer that claims it' : ''}`,
    evidence: text.slice(0, 800),
    replay: `kubectl --kubeconfig ${cluster.kubeconfigPath} create -f - <<'EOF'\n${stringify(o.pod)}EOF`,
    ...(status === 'fail' ? { finding: observed === o.predicted ? `rejected by the wrong layer: the ${o.layer.kind} claim is unproven` : `${o.id}: expected ${o.predicted}, got ${observed}` } : {}),
  };
}

describe('admission: each layer rejects what it claims, isolated from the other', () => {
  it('control: a compliant pod IS admitted in cde-processing (the denials below are not blanket)', async () => {
    const r = await attempt({ id: 'compliant-admitted', check: 'live.admission.kyverno', requirement: '2.2.5', pod: base('compliant'), predicted: 'admitted', layer: { kind: 'kyverno' }, must: [], mustNot: [] });
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });

  it('a privileged pod is rejected by Pod Security Admission (restricted:v1.34), before any webhook', async () => {
    const pod = base('privileged');
    Object.assign(container(pod).securityContext, { privileged: true, allowPrivilegeEscalation: true });
    const r = await attempt({ id: 'privileged-psa', check: 'live.admission.psa', requirement: '2.2.1', pod, predicted: 'rejected', layer: { kind: 'psa', names: ['restricted:v1.34'] }, must: [PSA_DENIAL, /privileged/], mustNot: [KYVERNO_DENIAL] });
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });

  it('Kyverno alone: a PSA-compliant pod without readOnlyRootFilesystem is denied by the Kyverno Fail webhook', async () => {
    const pod = base('writable-root');
    delete container(pod).securityContext.readOnlyRootFilesystem;
    const r = await attempt({ id: 'writable-root-kyverno', check: 'live.admission.kyverno', requirement: '2.2.5', pod, predicted: 'rejected', layer: { kind: 'kyverno', names: ['cde-pod-security-requirements/require-readonly-root-filesystem'] }, must: [KYVERNO_DENIAL, /require-readonly-root-filesystem/], mustNot: [PSA_DENIAL] });
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });

  it('the same writable-root pod outside the CDE is admitted (the rule is scoped to pci-scope namespaces)', async () => {
    const pod = base('writable-root-default', 'default');
    delete container(pod).securityContext.readOnlyRootFilesystem;
    const r = await attempt({ id: 'writable-root-outside-cde', check: 'live.admission.kyverno', requirement: '2.2.5', pod, predicted: 'admitted', layer: { kind: 'kyverno' }, must: [], mustNot: [] });
    recordLiveResults([r]);
    expect(r.status, explain(r)).toBe('pass');
  });
});
