/**
 * One run of the real Kyverno CLI over the whole batch: every policy of the
 * set, every fixture, one process (`kyverno apply`, Kyverno 1.16
 * cmd/cli/kubectl-kyverno/commands/apply).
 *
 *   kyverno apply <policies dir> --resource <fixtures dir> --values-file values.yaml
 *     --policy-report --output-format json --output <generated dir>
 *
 * - `--policy-report --output-format json` prints reports as JSON documents
 *   separated by `---` lines (commands/apply/print.go printReports). Verified
 *   on 1.16.3: a single openreports.io/v1alpha1 ClusterReport "merged" whose
 *   results name policy, rule, result (pass|fail|warn|error|skip) and the
 *   resource; rules that do not match a resource produce no result at all.
 * - `--output DIR` writes each generate rule's output to
 *   `DIR/<policy>-generated.yaml` (processor/policy_processor.go printOutput).
 * - The values file supplies namespace labels for `namespaceSelector`
 *   matching (ValuesSpec.namespaceSelector), taken from the set's own
 *   Namespace objects: fixtures are judged in the namespaces the set creates.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { K8sObject, LoadedObject } from '../../manifests/types.ts';

export type ResultStatus = 'pass' | 'fail' | 'warn' | 'error' | 'skip';

export interface RuleResult {
  policy: string;
  rule: string;
  result: ResultStatus;
  message: string;
  /** `Kind/namespace/name` of the evaluated resource. */
  resource: string;
}

export interface CliRun {
  results: RuleResult[];
  generated: K8sObject[];
  /** Policies Kyverno refused to load or skipped (stdout "Invalid Policies:" / "Policies Skipped"). */
  invalidPolicies: string[];
  /** Exit code and the tail of the output, for error messages. */
  exitCode: number;
  outputTail: string;
  durationMs: number;
}

function runCli(cli: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cli, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === -1 ? `\n${err.message}` : '') });
    });
  });
}

interface ReportResult {
  policy?: string;
  rule?: string;
  result?: string;
  message?: string;
  resources?: Array<{ kind?: string; namespace?: string; name?: string }>;
}

const REPORT_KINDS = new Set(['ClusterReport', 'Report', 'ClusterPolicyReport', 'PolicyReport']);

/** The CLI gives cluster-scoped resources (Namespace) the namespace "default" in reports: drop it. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ClusterPolicy', 'IngressClass', 'Node', 'PersistentVolume']);

/** Pull every report / ClusterPolicyReport JSON document out of mixed stdout. */
export function parseReports(stdout: string): RuleResult[] {
  const out: RuleResult[] = [];
  for (const chunk of stdout.split(/^---$/m)) {
    const start = chunk.indexOf('{');
    const end = chunk.lastIndexOf('}');
    if (start < 0 || end < start) continue;
    let doc: { kind?: string; results?: ReportResult[] };
    try {
      doc = JSON.parse(chunk.slice(start, end + 1));
    } catch {
      continue;
    }
    // Kyverno 1.16 prints openreports.io/v1alpha1 ClusterReport/Report; older releases wgpolicyk8s.io PolicyReport.
    if (!REPORT_KINDS.has(doc.kind ?? '')) continue;
    for (const r of doc.results ?? []) {
      for (const res of r.resources ?? [{}]) {
        out.push({
          policy: r.policy ?? '',
          rule: r.rule ?? '',
          result: (r.result ?? 'error') as ResultStatus,
          message: r.message ?? '',
          resource: res.namespace && !CLUSTER_SCOPED.has(res.kind ?? '') ? `${res.kind}/${res.namespace}/${res.name}` : `${res.kind}/${res.name}`,
        });
      }
    }
  }
  return out;
}

/** Names listed under "Invalid Policies:" or "Policies Skipped ...:" (commands/apply/print.go). */
export function parseInvalidPolicies(stdout: string): string[] {
  const out: string[] = [];
  let inList = false;
  for (const line of stdout.split('\n')) {
    if (/^(Invalid Policies:|Policies Skipped)/.test(line)) inList = true;
    else if (inList && /^\d+\. (.+)$/.test(line)) out.push(line.replace(/^\d+\. /, '').trim());
    else if (inList && line.trim() !== '') inList = false;
  }
  return out;
}

function valuesFile(namespaces: LoadedObject[]): string {
  return stringify({
    apiVersion: 'cli.kyverno.io/v1alpha1',
    kind: 'Value',
    metadata: { name: 'pci-harness-namespaces' },
    namespaceSelector: namespaces.map((n) => ({ name: n.object.metadata.name, labels: n.object.metadata.labels ?? {} })),
  });
}

export interface BatchInput {
  cli: string;
  policies: LoadedObject[];
  namespaces: LoadedObject[];
  fixtures: K8sObject[];
  timeoutMs?: number;
}

export async function runBatch(input: BatchInput): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'pci-kyverno-'));
  try {
    const polDir = join(dir, 'policies');
    const resDir = join(dir, 'resources');
    const genDir = join(dir, 'generated');
    for (const d of [polDir, resDir, genDir]) mkdirSync(d);
    // One file per policy: the set's objects as loaded (file:line mapping stays with the LoadedObject).
    input.policies.forEach((p, i) => writeFileSync(join(polDir, `${String(i).padStart(3, '0')}-${p.object.metadata.name}.yaml`), stringify(p.object)));
    input.fixtures.forEach((f, i) => writeFileSync(join(resDir, `${String(i).padStart(3, '0')}.yaml`), stringify(f)));
    const values = join(dir, 'values.yaml');
    writeFileSync(values, valuesFile(input.namespaces));
    const args = ['apply', polDir, '--resource', resDir, '--values-file', values, '--policy-report', '--output-format', 'json', '--output', genDir];
    const t0 = performance.now();
    const { code, stdout, stderr } = await runCli(input.cli, args, input.timeoutMs ?? 120_000);
    const durationMs = Math.round(performance.now() - t0);
    const generated: K8sObject[] = [];
    for (const name of readdirSync(genDir)) {
      for (const doc of parseAllDocuments(readFileSync(join(genDir, name), 'utf8'))) {
        const v = doc.toJS() as K8sObject | null;
        if (v && typeof v === 'object' && v.kind) generated.push(v);
      }
    }
    const all = `${stdout}\n${stderr}`;
    return {
      results: parseReports(stdout),
      generated,
      invalidPolicies: parseInvalidPolicies(all),
      exitCode: code,
      outputTail: all.trim().split('\n').slice(-15).join('\n'),
      durationMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
