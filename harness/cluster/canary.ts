import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { podIP, runPod, startProbePod } from './pods.ts';
import { checkReachability, formatCheck, type ReachabilityCheck } from './probe.ts';
import type { Cluster } from './provider.ts';

/**
 * Enforcement canary (netpol-testing.md §9): prove the CNI enforces
 * NetworkPolicy before any network result is believed. In a scratch
 * namespace: server + client; baseline must be allowed; a deny-all ingress
 * policy must make it blocked; removing the policy must make it allowed again.
 *   enforced      — all three as expected
 *   not-enforced  — baseline and removal fine, but the deny did not block
 *   check-failed  — the instrument broke (baseline not allowed, pod failed...)
 */
export type CanaryVerdict = 'enforced' | 'not-enforced' | 'check-failed';

export interface CanaryResult {
  verdict: CanaryVerdict;
  detail: string;
  steps: ReachabilityCheck[];
  ms: number;
}

const SERVER_PORT = 8080;

export function denyAllIngress(namespace: string, serverLabel: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'canary-deny', namespace },
    spec: { podSelector: { matchLabels: serverLabel }, policyTypes: ['Ingress'] },
  };
}

/** Decide the verdict from the three observations. Pure: unit-tested for every combination that matters. */
export function canaryVerdict(baseline: ReachabilityCheck, denied: ReachabilityCheck | undefined, restored: ReachabilityCheck | undefined): { verdict: CanaryVerdict; detail: string } {
  if (baseline.observed !== 'allowed') return { verdict: 'check-failed', detail: `baseline not allowed: ${formatCheck(baseline)}` };
  if (!denied) return { verdict: 'check-failed', detail: 'deny step did not run' };
  if (denied.observed === 'check-failed') return { verdict: 'check-failed', detail: `deny step broke: ${formatCheck(denied)}` };
  if (denied.observed === 'allowed') {
    return { verdict: 'not-enforced', detail: `a deny-all ingress NetworkPolicy did not block traffic: ${formatCheck(denied)}` };
  }
  if (!restored || restored.observed !== 'allowed') {
    return { verdict: 'check-failed', detail: `traffic did not come back after the policy was removed: ${restored ? formatCheck(restored) : 'not run'}` };
  }
  return { verdict: 'enforced', detail: 'baseline allowed → deny blocked → removal allowed' };
}

export async function runCanary(cluster: Cluster): Promise<CanaryResult> {
  const t0 = Date.now();
  const ns = `pci-canary-${randomBytes(3).toString('hex')}`;
  const serverLabel = { 'pci-harness.dev/canary': 'server' };
  const steps: ReachabilityCheck[] = [];
  try {
    await cluster.kubectl(['create', 'namespace', ns]);
    const [, client] = await Promise.all([
      runPod(cluster, { namespace: ns, name: 'server', image: cluster.images.serverImage, args: ['--listen', String(SERVER_PORT)], labels: serverLabel, ports: { http: SERVER_PORT } }),
      startProbePod(cluster, { namespace: ns, name: 'client', labels: { 'pci-harness.dev/canary': 'client' } }),
    ]);
    const target = { host: await podIP(cluster, ns, 'server'), port: SERVER_PORT, protocol: 'http' as const };
    const baseline = await checkReachability(client, target, 'allowed');
    steps.push(baseline);
    let denied: ReachabilityCheck | undefined;
    let restored: ReachabilityCheck | undefined;
    if (baseline.ok) {
      await cluster.kubectl(['apply', '-f', '-'], { input: stringify(denyAllIngress(ns, serverLabel)) });
      denied = await checkReachability(client, target, 'blocked');
      steps.push(denied);
      await cluster.kubectl(['delete', 'networkpolicy', 'canary-deny', '-n', ns]);
      restored = await checkReachability(client, target, 'allowed');
      steps.push(restored);
    }
    return { ...canaryVerdict(baseline, denied, restored), steps, ms: Date.now() - t0 };
  } catch (e) {
    return { verdict: 'check-failed', detail: `canary could not run: ${(e as Error).message}`, steps, ms: Date.now() - t0 };
  } finally {
    await cluster.kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'], { reject: false });
  }
}

/** A network check may only pass on a cluster whose canary says enforced. */
export class EnforcementError extends Error {
  readonly canary: CanaryResult;
  constructor(cluster: string, canary: CanaryResult) {
    super(
      `NetworkPolicy is ${canary.verdict === 'not-enforced' ? 'NOT ENFORCED' : 'UNVERIFIED (canary check failed)'} on cluster ${cluster}: ${canary.detail}\n` +
        '  No network control can be reported as passing here.\n' +
        '  hint: use a CNI that enforces NetworkPolicy (the pci-calico layout); kindnet needs nfqueue, which this kernel lacks.',
    );
    this.name = 'EnforcementError';
    this.canary = canary;
  }
}

const canaryCache = new Map<string, Promise<CanaryResult>>();

/** Run the canary once per cluster (cached) — network suites call this in beforeAll. */
export function canaryFor(cluster: Cluster): Promise<CanaryResult> {
  let p = canaryCache.get(cluster.name);
  if (!p) {
    p = runCanary(cluster);
    canaryCache.set(cluster.name, p);
  }
  return p;
}

/**
 * Guard for every network suite: resolves with the canary when enforcement is
 * proven; throws EnforcementError otherwise, so network checks fail loudly as
 * "not enforced" instead of passing on a cluster that enforces nothing.
 */
export async function requireEnforcement(cluster: Cluster): Promise<CanaryResult> {
  const canary = await canaryFor(cluster);
  if (canary.verdict !== 'enforced') throw new EnforcementError(cluster.name, canary);
  return canary;
}

/** Status for a network check when the suite reports rather than throws. */
export function networkCheckStatus(canary: CanaryResult, observedOk: boolean): 'pass' | 'fail' | 'not-enforced' | 'check-failed' {
  if (canary.verdict === 'not-enforced') return 'not-enforced';
  if (canary.verdict === 'check-failed') return 'check-failed';
  return observedOk ? 'pass' : 'fail';
}
