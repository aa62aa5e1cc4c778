import type { CheckResult } from '../check/types.ts';
import type { LiveResult } from '../scenario/result.ts';

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
