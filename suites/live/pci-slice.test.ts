import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { requireEnforcement } from '../../harness/cluster/canary.ts';
import { deletePod, harnessPod, probeOptionsLike, startProbePod } from '../../harness/cluster/pods.ts';
import { checkReachability, formatCheck, type ProbePod } from '../../harness/cluster/probe.ts';
import type { Cluster } from '../../harness/cluster/provider.ts';
import { sharedCluster } from './support/shared.ts';

/**
 * (c) End-to-end slice on the shipped manifests: which admission layer rejects
 * what, and network flows both allowed and denied from real pods.
 */
const suffix = randomBytes(2).toString('hex');

/** Create a pod for real (not dry-run) and return the API server's verdict text. */
async function tryCreate(cluster: Cluster, pod: Record<string, unknown>): Promise<{ admitted: boolean; message: string }> {
  const r = await cluster.kubectl(['create', '-f', '-'], { input: stringify(pod), reject: false });
  const meta = pod.metadata as { name: string; namespace: string };
  if (r.exitCode === 0) await deletePod(cluster, meta.namespace, meta.name);
  return { admitted: r.exitCode === 0, message: `${r.stdout}\n${r.stderr}` };
}

const PSA_DENIAL = /violates PodSecurity "restricted:v1\.34"/;
const KYVERNO_DENIAL = /admission webhook "validate\.kyverno\.svc-fail" denied the request/;

describe('admission: each layer rejects what it claims', () => {
  const base = (name: string) => {
    const cluster = sharedCluster();
    return harnessPod({ namespace: 'cde-processing', name: `${name}-${suffix}`, image: cluster.images.serverImage, args: ['--listen', '8080'], nodeSelector: { 'pci-scope': 'in-scope' }, tolerations: [{ key: 'pci-scope', operator: 'Equal', value: 'in-scope', effect: 'NoSchedule' }] });
  };
  const container = (pod: Record<string, unknown>) => ((pod.spec as { containers: Array<{ securityContext: Record<string, unknown> }> }).containers[0]!);

  it('control: a compliant pod IS admitted in cde-processing (the denials below are not blanket)', async () => {
    const r = await sharedCluster().kubectl(['create', '--dry-run=server', '-f', '-'], { input: stringify(base('compliant')), reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('a privileged pod is rejected by Pod Security Admission (restricted:v1.34), before any webhook', async () => {
    const pod = base('privileged');
    Object.assign(container(pod).securityContext, { privileged: true, allowPrivilegeEscalation: true });
    const r = await tryCreate(sharedCluster(), pod);
    expect(r.admitted).toBe(false);
    expect(r.message).toMatch(PSA_DENIAL);
    expect(r.message).toMatch(/privileged/);
    expect(r.message).not.toMatch(KYVERNO_DENIAL);
  });

  it('Kyverno alone: a PSA-compliant pod without readOnlyRootFilesystem is denied by the Kyverno Fail webhook', async () => {
    const pod = base('writable-root');
    delete container(pod).securityContext.readOnlyRootFilesystem;
    const r = await tryCreate(sharedCluster(), pod);
    expect(r.admitted).toBe(false);
    expect(r.message).toMatch(KYVERNO_DENIAL);
    expect(r.message).toMatch(/require-readonly-root-filesystem/);
    expect(r.message).not.toMatch(PSA_DENIAL);
  });

  it('the same writable-root pod outside the CDE is admitted (the rule is scoped to pci-scope namespaces)', async () => {
    const pod = base('writable-root-default');
    (pod.metadata as { namespace: string }).namespace = 'default';
    delete container(pod).securityContext.readOnlyRootFilesystem;
    const r = await sharedCluster().kubectl(['create', '--dry-run=server', '-f', '-'], { input: stringify(pod), reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
  });
});

describe('network: allowed and denied flows on the shipped NetworkPolicies', () => {
  let outsider: ProbePod;
  let asPaymentApi: ProbePod;
  beforeAll(async () => {
    const cluster = sharedCluster();
    await requireEnforcement(cluster);
    [outsider, asPaymentApi] = await Promise.all([
      startProbePod(cluster, { namespace: 'default', name: `probe-outsider-${suffix}` }),
      probeOptionsLike(cluster, 'cde-frontend', 'payment-api', `probe-payment-api-${suffix}`).then((o) => startProbePod(cluster, o)),
    ]);
  });
  afterAll(async () => {
    const cluster = sharedCluster();
    await Promise.all([deletePod(cluster, 'default', `probe-outsider-${suffix}`), deletePod(cluster, 'cde-frontend', `probe-payment-api-${suffix}`)]);
  });

  it('a pod in default cannot reach payment-api:8443 (blocked)', async () => {
    const c = await checkReachability(outsider, { host: 'payment-api.cde-frontend.svc.cluster.local', port: 8443, protocol: 'https' }, 'blocked');
    expect(c.ok, formatCheck(c)).toBe(true);
  });

  it("a pod with payment-api's labels and service account in cde-frontend reaches card-processor:9443 (allowed)", async () => {
    const c = await checkReachability(asPaymentApi, { host: 'card-processor.cde-processing.svc.cluster.local', port: 9443, protocol: 'https' }, 'allowed');
    expect(c.ok, formatCheck(c)).toBe(true);
  });

  it('the same payment-api pod cannot skip a tier to the datastore:5432 (blocked)', async () => {
    const c = await checkReachability(asPaymentApi, { host: 'datastore.cde-storage.svc.cluster.local', port: 5432, protocol: 'https' }, 'blocked');
    expect(c.ok, formatCheck(c)).toBe(true);
  });
});
