/**
 * Every live check id and the PCI DSS v4.0 requirements its results may name.
 * `manifests/spec/controls.yaml` maps these ids like the offline ones; the
 * control-map test holds the two equal, both lanes.
 */
export const LIVE_CHECKS = {
  /** Enforcement canary (ingress and egress, CDE node and cross-node): precondition of every network result. */
  'live.network.canary': ['1.2.1'],
  /** One cell of the reachability matrix, predicted by network.reachability, observed on the cluster. */
  'live.network.matrix': ['1.2.1', '1.3.1', '1.3.2', '2.2.3'],
  /** A compromised workload finds no API token and cannot reach the API server. */
  'live.network.api-token': ['7.2.5', '8.2.2'],
  /** A namespace labelled in-scope at runtime gets the generated default-deny, proven by probes. */
  'live.kyverno.generate': ['1.3.1', '1.3.2'],
  /** Pod Security Admission rejects what it claims, isolated from Kyverno. */
  'live.admission.psa': ['2.2.1'],
  /** Kyverno rejects what it claims, isolated from PSA. */
  'live.admission.kyverno': ['2.2.5', '2.2.6', '6.3.2'],
  /** The compromised pipeline's unsafe deploys into the CDE (every kind, its own credentials): refused by the first layer the offline lane predicts, with the exact Kyverno rules. */
  'live.admission.pipeline': ['2.2.5', '2.2.6', '6.3.2'],
  /** A live weakening of the cluster turns the scenario that guards it red. */
  'live.mutant': ['1.3.1', '1.3.2', '2.2.1', '2.2.3', '2.2.6', '3.6.1', '6.3.2', '7.2.2', '10.2.1', '10.3.2', '10.3.3', '10.5.1'],
  /** A compromised pipeline deploys into the CDE: only images signed with the organisation key are admitted (verifyImages against the live registry). */
  'live.supply-chain.signature': ['6.3.2'],
  /** An insider (a human identity of the access table, impersonated) reads Secrets or execs into the CDE: 403 unless the table grants it. */
  'live.rbac.insider': ['7.2.1', '7.2.2'],
  /** The compromised CI pipeline, with its own client certificate: what the deployer group may do works, every attempt on the guards (RBAC, Kyverno, webhooks, namespace labels, kube-system, tokens, NetworkPolicies) is 403 as the offline RBAC model predicts. */
  'live.rbac.pipeline': ['7.2.2'],
  /** Every access-table subject's live permissions (SelfSubjectRulesReview per namespace) equal the offline rbac.least-privilege prediction. */
  'live.rbac.prediction': ['7.2.1', '7.2.2'],
  /** CDE workloads run only on CDE nodes; nothing from outside the CDE lands on one. */
  'live.node-pool.isolation': ['2.2.3'],
  /** Audit log: what is recorded, at which level, with identity and no secret value. */
  'live.audit.events': ['10.2.1', '10.2.1.1', '10.2.1.2', '10.2.1.4', '8.3.2'],
  /** Secrets in etcd are ciphertext under the configured provider and key. */
  'live.encryption.etcd': ['3.6.1', '8.3.2'],
  /** The documented key rotation (own cluster): every Secret in etcd ends under the new key, none under the old, every value unchanged. */
  'live.encryption.rotation': ['3.6.1'],
  /** The assessor's view: the guide's verification table and pre-assessment checks, corrected — command, output and verdict (NOT TESTED rows are skips with the reason). */
  'live.assessor': ['1.3.1', '1.3.2', '2.2.1', '2.2.6', '3.6.1', '4.2.1', '7.2.1', '7.2.2', '8.2.2', '8.3.2', '8.6.1', '10.2.1.1', '10.2.1.2', '10.3.3', '10.5.1'],
  /** `run --kubeconfig` on a cluster the harness did not create: what it could not run there (destructive or unreachable), each a skip saying NOT TESTED and why — never a pass. */
  'live.existing.not-tested': ['1.2.1', '1.3.1', '1.3.2', '2.2.1', '2.2.3', '2.2.6', '3.6.1', '6.3.2', '7.2.2', '8.3.2', '10.2.1'],
  /** Audit-log rotation (own cluster, the set's policy, maxsize 1 MB): a known series of audited requests is in the current and rotated files exactly once. */
  'live.audit.rotation': ['10.2.1'],
  /** The shipper (manifests/cluster/50-audit-shipping.yaml): an insider's denied Secret read reaches the store within seconds with identity and no secret value; every event of a series arrives across a forced rotation and a shipper restart. */
  'live.audit.shipping': ['10.3.3'],
  /** The store refuses to delete, overwrite or shorten the retention of a shipped object; Object Lock COMPLIANCE >= 12 months on the bucket and on each object. */
  'live.audit.store': ['10.3.2', '10.5.1'],
  /** A sha256 per shipped object version, recorded in the evidence, equals the store's bytes when read back. */
  'live.audit.integrity': ['10.3.4'],
} as const satisfies Record<string, readonly string[]>;

export type LiveCheckId = keyof typeof LIVE_CHECKS;
