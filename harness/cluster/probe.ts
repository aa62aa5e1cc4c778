import type { Cluster } from './provider.ts';

/**
 * Connectivity outcomes, after Kubernetes' netpol e2e and policy-assistant
 * (shared/reference/netpol-testing.md):
 *   allowed      — connected, and the expected server answered
 *   blocked      — the attempt timed out silently (a NetworkPolicy drop), on a target proven alive
 *   check-failed — the probe itself broke: exec error, missing tool, DNS failure,
 *                  refused (no listener), a wrong answerer, a target not proven alive
 * A broken probe is never "blocked": that is how a suite passes on a cluster
 * where nothing runs. The probes themselves: harness/scenario/agent.ts.
 */
export type Outcome = 'allowed' | 'blocked' | 'check-failed';

/** A running pod, addressed for `kubectl exec`. */
export interface ProbePod {
  cluster: Cluster;
  namespace: string;
  name: string;
  container?: string;
}
