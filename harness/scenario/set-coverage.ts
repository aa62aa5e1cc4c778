/**
 * Which live files run on a user's own set (`pci-harness run --manifests X`).
 * Every file not listed here derives what it attacks from the set under
 * attack (its model, scope, access table, policies) and runs on any set;
 * the files below were written for the shipped set's workloads or identities
 * and are NOT run on another set. Each is reported as NOT TESTED with its
 * reason, under every requirement of the checks it would have recorded —
 * never silently dropped, never a pass.
 */
import { LIVE_CHECKS } from './checks.ts';
import type { LiveResult } from './result.ts';

export interface ShippedOnlyFile {
  /** Repo-relative path of the live file. */
  file: string;
  reason: string;
  /** Live check ids the file records (their requirements are reported NOT TESTED). */
  checks: string[];
}

export const SHIPPED_SET_ONLY: readonly ShippedOnlyFile[] = [
  { file: 'suites/live/instrument.test.ts', reason: "the harness's instrument self-test, written on the shipped set's ingress → payment-api path (the instruments are the same on any set)", checks: [] },
  { file: 'suites/live/control-plane.test.ts', reason: "execs into the shipped payment-api and reads its namespaces' audit trail", checks: ['live.audit.events', 'live.encryption.etcd'] },
  { file: 'suites/live/scenarios/admission-layers.test.ts', reason: "expects the shipped CDE policy's rule names (cde-pod-security-requirements/...)", checks: ['live.admission.psa', 'live.admission.kyverno'] },
  { file: 'suites/live/scenarios/assessor-checks.test.ts', reason: "the guide's verification table, row by row, names the shipped workloads and policies", checks: ['live.assessor'] },
  { file: 'suites/live/scenarios/assessor-failure-1.test.ts', reason: "the guide's failure 1 (ingress → payment-api) on the shipped set", checks: ['live.assessor'] },
  { file: 'suites/live/scenarios/audit-shipping.test.ts', reason: "follows the shipped set's audit shipper (manifests/cluster/50-audit-shipping.yaml) to the store beside the cluster; a set of your own ships its trail its own way", checks: ['live.audit.shipping', 'live.audit.store', 'live.audit.integrity'] },
  { file: 'suites/live/scenarios/audit-rotation.test.ts', reason: "the platform's audit-log rotation, on a cluster of its own with the shipped control plane", checks: ['live.audit.rotation'] },
  { file: 'suites/live/scenarios/key-rotation.test.ts', reason: "the platform's encryption-key rotation, on a cluster of its own with the shipped control plane", checks: ['live.encryption.rotation'] },
  { file: 'suites/live/scenarios/guard-mutants.test.ts', reason: "weakens the shipped set's RBAC, taint, PSA labels and Kyverno rules by name", checks: ['live.mutant'] },
  { file: 'suites/live/scenarios/lateral-payment-api-skips-tier.test.ts', reason: 'a hand-written scenario about the shipped payment-api (the matrix covers every workload of any set)', checks: [] },
  { file: 'suites/live/scenarios/no-api-token.test.ts', reason: "a hand-written scenario about the shipped payment-api's ServiceAccount", checks: ['live.network.api-token'] },
  { file: 'suites/live/scenarios/pipeline-tampering.test.ts', reason: "acts as the shipped set's deployer group (pci-deployers) and tampers with the shipped guards by name", checks: ['live.rbac.pipeline'] },
  { file: 'suites/live/scenarios/pipeline-unsafe-deploys.test.ts', reason: "acts as the shipped set's deployer group (pci-deployers) in cde-processing", checks: ['live.admission.pipeline', 'live.rbac.pipeline'] },
  { file: 'suites/live/scenarios/signed-images.test.ts', reason: "deploys as the shipped deployer into cde-processing with the shipped verifyImages policy", checks: ['live.supply-chain.signature'] },
];

export function isShippedOnly(file: string): boolean {
  return SHIPPED_SET_ONLY.some((f) => f.file === file);
}

/** The NOT TESTED results a run on a user's set records for the files it did not run. */
export function notTestedOnSet(setLabel: string): LiveResult[] {
  return SHIPPED_SET_ONLY.flatMap((f) =>
    f.checks.flatMap((check) =>
      ((LIVE_CHECKS as Record<string, readonly string[]>)[check] ?? []).map(
        (requirement: string): LiveResult => ({
          lane: 'live',
          check,
          requirement,
          status: 'skip',
          scenario: `not-run.${f.file.replace(/^.*\//, '').replace(/\.test\.ts$/, '')}`,
          adversary: 'none (not run on this set)',
          action: `${f.file} not run`,
          // A skip has no observation: check-failed marks "nothing observed" (as a matrix cell that does not apply).
          predicted: 'blocked',
          observed: 'check-failed',
          layer: { kind: 'none' },
          message: `NOT TESTED on ${setLabel}: ${f.file} was written for the shipped set (${f.reason})`,
          evidence: '',
          replay: `npx pci-harness run   # the shipped set runs ${f.file}`,
        }),
      ),
    ),
  );
}
