import type { CheckResult } from '../../check/types.ts';
import type { ManifestSet } from '../../manifests/types.ts';
import { kindApiServer, kindClusters, traceApiServerPath } from './kind-apiserver.ts';

const CHECK = 'audit.wired';
const REQ = '10.2.1';

/**
 * audit.wired: each kind Cluster config passes --audit-policy-file and --audit-log-path, bounds
 * rotation (maxsize/maxbackup/maxage), and mounts the policy and the log directory. Local
 * retention is (maxbackup + 1) × maxsize whatever maxage says (defect 5): stated, not trusted.
 */
export function auditWired(set: ManifestSet): CheckResult[] {
  const clusters = kindClusters(set);
  if (clusters.length === 0) {
    return [{ check: CHECK, requirement: REQ, status: 'fail', message: 'no kind Cluster config (kind.x-k8s.io/v1alpha4) in the set: nothing enables audit logging on the apiserver; add manifests/kind/cluster.yaml' }];
  }
  const out: CheckResult[] = [];
  for (const cluster of clusters) {
    const w = kindApiServer(cluster);
    const file = cluster.source.file;
    const object = `Cluster/${file}`;
    const fail = (line: number, message: string) => out.push({ check: CHECK, requirement: REQ, status: 'fail', message, object, file, line });
    for (const e of w.errors) fail(e.line, e.message);
    const policy = w.args.get('audit-policy-file');
    const logPath = w.args.get('audit-log-path');
    if (!policy) fail(cluster.source.line, 'kube-apiserver has no --audit-policy-file: audit logging is OFF. Add it to apiServer.extraArgs in a ClusterConfiguration kubeadmConfigPatch');
    if (!logPath) fail(cluster.source.line, 'kube-apiserver has no --audit-log-path: events go nowhere. Add it (a file in a hostPath-mounted directory)');
    if (policy) {
      const t = traceApiServerPath(w, policy.value);
      if (!t.ok) fail(policy.line, `--audit-policy-file: ${t.problem}`);
    }
    if (logPath && logPath.value !== '-') {
      const dir = logPath.value.replace(/\/[^/]*$/, '') || '/';
      const t = traceApiServerPath(w, dir, { fromHost: false });
      if (!t.ok) fail(logPath.line, `--audit-log-path directory ${dir}: ${t.problem.replace(`${dir} is not`, 'it is not')}; the log stays inside the apiserver container and is lost on restart, and no shipper can read it`);
    }
    const num = (k: string) => {
      const a = w.args.get(k);
      if (!a) return undefined;
      const n = Number(a.value);
      return Number.isInteger(n) && n >= 0 ? n : NaN;
    };
    const maxsize = num('audit-log-maxsize');
    const maxbackup = num('audit-log-maxbackup');
    const maxage = num('audit-log-maxage');
    for (const [k, v] of [['audit-log-maxsize', maxsize], ['audit-log-maxbackup', maxbackup], ['audit-log-maxage', maxage]] as const) {
      if (v === undefined) fail(logPath?.line ?? cluster.source.line, `--${k} is not set: rotation is unbounded or defaulted (lumberjack keeps every backup when maxbackup is 0); set it explicitly`);
      else if (Number.isNaN(v)) fail(w.args.get(k)?.line ?? cluster.source.line, `--${k} must be a non-negative integer`);
    }
    if (out.some((r) => r.file === file && r.status === 'fail')) continue;
    const capMb = ((maxbackup ?? 0) + 1) * (maxsize ?? 0);
    out.push({
      check: CHECK,
      requirement: REQ,
      status: 'pass',
      object,
      file,
      line: policy?.line ?? cluster.source.line,
      message: `kube-apiserver audits with --audit-policy-file=${policy?.value} (${(traceApiServerPath(w, policy?.value ?? '') as { chain?: string }).chain ?? 'mounted'}) to ${logPath?.value}; local files are capped at (maxbackup ${maxbackup} + 1) × maxsize ${maxsize} MB = ${capMb} MB whatever maxage (${maxage} days) says — a rotation buffer, not 12-month retention (10.5.1 lives in the shipped store)`,
    });
  }
  return out;
}
