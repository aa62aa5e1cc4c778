import type { CheckResult } from '../check/types.ts';

/**
 * The one result contract both lanes share. An offline check is a
 * `CheckResult`; a live result is a `CheckResult` too (so the same text, JSON,
 * JUnit and SARIF reporters render it) plus what an assessor needs to believe
 * it: who attacked, what they tried, what the offline model predicted, what
 * the cluster did, which layer decided, the raw evidence, and a command that
 * replays the attempt.
 *
 * Status on a live result:
 *   pass          observed == predicted, and the instrument is proven (canary)
 *   fail          observed != predicted (exit 1): a finding naming the requirement
 *   inconclusive  the probe broke or enforcement is unproven (exit 3), never a pass
 *   skip          not applicable here, with the reason in `message`
 */
export type LiveVerdict =
  | 'allowed' // network: the expected server answered
  | 'blocked' // network: the attempt timed out at a policy drop
  | 'admitted' // admission: the object was created
  | 'rejected' // admission: refused, by `layer`
  | 'permitted' // RBAC: the API said yes
  | 'forbidden' // RBAC: 403
  | 'logged' // audit: the event is in the audit log
  | 'not-logged'
  | 'check-failed'; // the instrument broke: never a verdict on the control

/** The layer that decided (or should have decided) the attempt. */
export interface DecidingLayer {
  kind:
    | 'networkpolicy-ingress'
    | 'networkpolicy-egress'
    | 'networkpolicy' // both halves allow (an allowed flow)
    | 'none' // no policy selects either end
    | 'psa'
    | 'kyverno'
    | 'rbac'
    | 'audit'
    | 'encryption'
    | 'scheduler'
    | 'kubelet';
  /** Policy / rule / binding names, `namespace/name` where namespaced. */
  names?: string[];
}

export interface LiveResult extends CheckResult {
  lane: 'live';
  status: CheckResult['status'] | 'inconclusive';
  /** Scenario id, e.g. `lateral.matrix` or `lateral.payment-api-skips-tier`. */
  scenario: string;
  /** Who attacked, e.g. `compromised cde-frontend/payment-api`, `outsider default`, `outside-world host`. */
  adversary: string;
  /** What was tried, e.g. `tcp → datastore.cde-storage.svc.cluster.local:5432 (service DNS)`. */
  action: string;
  predicted: Exclude<LiveVerdict, 'check-failed'>;
  observed: LiveVerdict;
  layer: DecidingLayer;
  /** Raw probe output, denial message or audit excerpt — redacted, never a secret value. */
  evidence: string;
  /** A shell command that repeats the attempt against the cluster. */
  replay: string;
  /** Set when predicted and observed disagree: what it implicates. */
  finding?: string;
  ms?: number;
  /** The attack story of the scenario (`ScenarioDef.narrative`), for the report; set by `runScenario`. */
  narrative?: string;
  /**
   * The NetworkPolicy engine of the cluster it ran on (`calico`, `cilium`): the same
   * manifest can get a different network verdict on another CNI. Stamped by
   * recordLiveResults from the live lane's PCI_LIVE_CNI (suites/live/global-setup.ts).
   */
  cni?: 'calico' | 'cilium';
}

export function isLiveResult(r: CheckResult): r is LiveResult {
  return (r as Partial<LiveResult>).lane === 'live';
}

/** Exit code of a set of live results: 1 on any fail, else 3 on any inconclusive, else 0. */
export function liveExitCode(results: readonly LiveResult[]): 0 | 1 | 3 {
  if (results.some((r) => r.status === 'fail')) return 1;
  if (results.some((r) => r.status === 'inconclusive')) return 3;
  return 0;
}
