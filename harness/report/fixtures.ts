import type { CheckResult } from '../check/types.ts';
import type { LiveResult } from '../scenario/result.ts';
import type { RunReport } from './run-report.ts';

/** Results of both lanes for the reporters' unit tests (and the evidence tests). */
export function live(over: Partial<LiveResult> = {}): LiveResult {
  return {
    lane: 'live',
    check: 'live.network.matrix',
    requirement: '1.3.1',
    status: 'pass',
    message: 'blocked as predicted',
    scenario: 'lateral.matrix',
    adversary: 'compromised cde-frontend/payment-api',
    action: 'tcp → datastore.cde-storage.svc.cluster.local:5432 (service DNS)',
    predicted: 'blocked',
    observed: 'blocked',
    layer: { kind: 'networkpolicy-ingress', names: ['cde-storage/datastore-ingress'] },
    evidence: 'PCI_PROBE curl 28 timeout after 3.0s',
    replay: 'kubectl exec -n cde-frontend attacker -- probe tcp datastore.cde-storage:5432',
    ms: 3012,
    ...over,
  };
}

export const OFFLINE_PASS: CheckResult = {
  check: 'network.reachability',
  requirement: '1.3.1',
  status: 'pass',
  message: 'every flow allowed, everything else denied',
  object: 'NetworkPolicy/cde-storage/datastore-ingress',
  file: 'cluster/10-networkpolicies-cde-storage.yaml',
  line: 12,
};

export const LIVE_FAIL = live({
  status: 'fail',
  message: 'the attacker reached the datastore',
  adversary: 'compromised cde-frontend/payment-api',
  action: 'tcp → 10.244.1.7:5432 (pod IP)',
  observed: 'allowed',
  finding: 'datastore-ingress admits cde-frontend: the payment-api must go through card-processor',
  evidence: 'PCI_PROBE-W 200 0.004\nPCI_PROBE curl 0',
  replay: 'kubectl exec -n cde-frontend attacker -- probe tcp 10.244.1.7:5432',
});

export const LIVE_INCONCLUSIVE = live({
  check: 'live.network.canary',
  requirement: '1.2.1',
  status: 'inconclusive',
  message: 'NetworkPolicy is UNVERIFIED (canary check failed): probe pod never became ready',
  scenario: 'canary',
  adversary: 'harness canary',
  action: 'deny-all ingress on the canary server',
  predicted: 'blocked',
  observed: 'check-failed',
  layer: { kind: 'networkpolicy-ingress' },
  evidence: 'pod/canary-probe: ImagePullBackOff',
  replay: 'kubectl -n pci-canary get pods -o wide',
});

export const LIVE_SKIP = live({
  check: 'live.admission.kyverno',
  requirement: '2.2.6',
  status: 'skip',
  message: 'no Kyverno on this cluster layout',
  scenario: 'admission.kyverno',
  action: 'create privileged pod',
  predicted: 'rejected',
  observed: 'admitted',
  layer: { kind: 'kyverno' },
});

/** A matrix cell as harness/scenario/matrix.ts records it (`<proto> → <target> (<host>:<port>)`). */
export function cell(source: string, target: string, over: Partial<LiveResult> = {}): LiveResult {
  return live({ adversary: source, action: `http → ${target} (10.0.0.1:8080)`, message: `${source} → ${target}`, ...over });
}

/** A whole run for the package renderers (report.html, OSCAL, attestation): passing unless `failing`. */
export function runReport(opts: { failing?: boolean; offlineOnly?: boolean } = {}): RunReport {
  const sources = ['compromised cde-frontend/payment-api', 'outsider in default'];
  const targets = ['cde-storage/datastore 5432/TCP via pod-ip', 'cde-processing/card-processor 8443/TCP via service-dns'];
  const cells = sources.flatMap((s) => targets.map((t) => cell(s, t, s.startsWith('outsider') ? {} : { requirement: '1.3.2' })));
  const liveResults: LiveResult[] = [
    ...cells,
    cell('compromised cde-frontend/payment-api', 'cde-frontend/payment-api 8080/TCP via cluster-ip', { predicted: 'allowed', observed: 'allowed', layer: { kind: 'networkpolicy' } }),
    cell('outsider in default', 'internet 80/TCP', { status: 'skip', observed: 'check-failed', message: 'not applicable' }),
    live({ check: 'live.admission.psa', requirement: '2.2.1', scenario: 'admission.privileged-psa', adversary: 'deployer', action: 'create a privileged pod in cde-storage', predicted: 'rejected', observed: 'rejected', layer: { kind: 'psa' }, evidence: 'pods "x" is forbidden: violates PodSecurity "restricted:v1.34"', replay: 'kubectl apply -f privileged.yaml' }),
    ...(opts.failing ? [LIVE_FAIL, LIVE_INCONCLUSIVE] : []),
  ];
  return {
    context: {
      version: '0.1.0',
      runId: '2026-12-01T09-29-10-129Z',
      startedAt: '2026-12-01T09:29:10.129Z',
      finishedAt: '2026-12-01T09:36:59.000Z',
      commit: '1726b7f744bbd86d8db90261e48d4b9e0d81e07b',
      manifests: 'manifests',
      manifestDigest: 'sha256:5d41402abc4b2a76b9719d911017c592e0f5a1b3e9b6a45cd0e8e0d2f7f1c0aa',
      imageSource: 'local',
      versions: { kubernetes: 'v1.34.12', cni: 'Calico v3.30.1', kyverno: 'v1.16.3', images: [{ role: 'kyverno', ref: 'reg.kyverno.io/kyverno/kyverno:v1.16.3', digest: 'sha256:0123' }] },
      timings: [
        { step: 'offline check', seconds: 1.2 },
        { step: 'live suites', seconds: 214 },
      ],
      verdict: opts.failing ? { code: 1, reasons: ['live: 1 failed (1.3.1 live.network.matrix)'] } : { code: 0, reasons: [] },
    },
    offline: [OFFLINE_PASS, { ...OFFLINE_PASS, check: 'rbac.least-privilege', requirement: '7.2.1', object: 'Role/cde-storage/reader', message: 'effective permissions equal the access table' }],
    ...(opts.offlineOnly ? { liveNotRun: 'not run (--offline-only)' } : { live: liveResults }),
    titles: {},
  };
}
