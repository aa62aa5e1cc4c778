import type { LiveResult } from '../scenario/result.ts';

/**
 * What the existing-cluster mode ran and what it could not, and why: printed
 * as a plain table and recorded. Everything it could not run becomes a
 * `skip` LiveResult whose message starts `NOT TESTED —` (check
 * live.existing.not-tested), so report.html, summary.md and OSCAL show it
 * as NOT TESTED, never as a pass.
 */
export interface CoverageRow {
  area: string;
  requirements: string[];
  state: 'ran' | 'NOT TESTED';
  /** For `ran`: what gave verdicts (counts). For NOT TESTED: why not. */
  detail: string;
}

/**
 * On a cluster the harness did not create, these need a destructive step or a
 * place it cannot reach (a managed control plane exposes neither its disks nor
 * its flags). The lanes on a cluster of the harness's own cover each of them.
 */
export const NEVER_ON_EXISTING: readonly CoverageRow[] = [
  { area: 'Secrets in etcd on disk (ciphertext under the configured key)', requirements: ['3.6.1', '8.3.2'], state: 'NOT TESTED', detail: 'needs etcdctl in the etcd pod or etcd\'s data dir: not reachable on a managed control plane, and reading it means exec in kube-system, which this mode never writes to' },
  { area: 'encryption at rest configuration and key rotation', requirements: ['3.6.1'], state: 'NOT TESTED', detail: 'the --encryption-provider-config file lives on the control-plane host; rotation restarts the API server (destructive)' },
  { area: 'control-plane flags (audit policy and log wired, encryption wired)', requirements: ['10.2.1', '8.3.2'], state: 'NOT TESTED', detail: 'the API server\'s flags are not exposed by the Kubernetes API; a managed provider configures them' },
  { area: 'CDE node pool: taints and placement', requirements: ['2.2.3'], state: 'NOT TESTED', detail: 'needs pods placed on the CDE nodes or their taints changed: nodes are not the run\'s to change, and CDE namespaces are not the run\'s to create pods in' },
  { area: 'live mutants (a weakened cluster must turn the checks red)', requirements: ['1.3.1', '2.2.1', '2.2.6', '7.2.2'], state: 'NOT TESTED', detail: 'each mutant weakens the running cluster (policies, RBAC, taints, Kyverno rules): destructive on a cluster the harness does not own' },
  { area: 'adversaries inside the CDE (each workload compromised, a rogue pod per CDE namespace) and the internet host', requirements: ['1.3.1', '1.3.2'], state: 'NOT TESTED', detail: 'needs pods in the CDE namespaces and a container on the cluster\'s network: outside the run\'s namespace' },
  { area: 'signed images (unsigned, re-tagged, foreign-key images refused)', requirements: ['6.3.2'], state: 'NOT TESTED', detail: 'needs images pushed to the organisation\'s registry: not the run\'s to write' },
  { area: 'the CI pipeline\'s own credentials (its attempts on the guards)', requirements: ['7.2.2'], state: 'NOT TESTED', detail: 'needs a client certificate issued by the cluster CA (a CertificateSigningRequest, cluster-scoped): not created here' },
];

export function notTestedResults(rows: readonly CoverageRow[]): LiveResult[] {
  return rows
    .filter((r) => r.state === 'NOT TESTED')
    .flatMap((r) =>
      r.requirements.map(
        (requirement): LiveResult => ({
          lane: 'live',
          check: 'live.existing.not-tested',
          requirement,
          status: 'skip',
          scenario: 'existing.coverage',
          adversary: '(not run on an existing cluster)',
          action: r.area,
          predicted: 'rejected',
          observed: 'check-failed',
          layer: { kind: 'none', names: [r.area] },
          message: `NOT TESTED — ${r.area}: ${r.detail}`,
          evidence: r.detail,
          replay: 'pci-harness run (on a cluster the harness boots) covers it',
        }),
      ),
    );
}

/** Counts of a group of results, for a `ran` row. */
export function ranDetail(results: readonly LiveResult[]): string {
  const n = (s: string) => results.filter((r) => r.status === s).length;
  return `${results.length} results: ${n('pass')} pass, ${n('fail')} fail, ${n('inconclusive')} inconclusive, ${n('skip')} not applicable/skipped`;
}

/** The plain coverage table, one row per area. */
export function renderCoverage(rows: readonly CoverageRow[]): string {
  const head = ['state', 'requirements', 'area', 'what gave verdicts / why not'];
  const body = rows.map((r) => [r.state, r.requirements.join(', '), r.area, r.detail]);
  const w = [0, 1, 2].map((i) => Math.min(60, Math.max(head[i]!.length, ...body.map((b) => b[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(w[i]!) : c)).join(' | ');
  return [line(head), w.map((x) => '-'.repeat(x)).join('-+-') + '-+-' + '-'.repeat(30), ...body.map(line)].join('\n');
}
