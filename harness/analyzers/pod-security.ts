import { at, type Analyzer, type CheckResult } from '../check/types.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { evaluatePodSecurity, parseVersion, type Level, type PolicyVersion, type Violation } from './pod-security/checks.ts';
import { inScopeNamespaces, namespaceObjects, podTemplates, scopeDeclaration, type PodTemplate } from './workloads.ts';

export { evaluatePodSecurity, parseVersion, LATEST_MINOR } from './pod-security/checks.ts';

/**
 * Pod Security Standards (requirement 2.2.1, secure configuration standards):
 * every workload in scope meets `restricted`; every in-scope namespace makes
 * the PodSecurity admission plugin enforce, audit and warn at restricted with
 * a pinned version. Workloads elsewhere are checked against the level their
 * namespace enforces, as admission would (PSA checks Pods, so a failing
 * Deployment is admitted but its pods never start: guide defect 11).
 *
 * Versions follow the namespace's `enforce-version` label as admission reads
 * it (api.PolicyToEvaluate): absent, `latest` or malformed → latest (1.34 on
 * this harness's apiserver); `v1.N` → the rules of v1.N (newer than 1.34 →
 * 1.34). A malformed `enforce` level is enforced as restricted (fail closed).
 * In-scope workloads are checked at the version their namespace enforces and,
 * when it differs, also at the version the ScopeDeclaration pins.
 */
const REQ = '2.2.1';
const PREFIX = 'pod-security.kubernetes.io/';
const LEVELS = new Set(['privileged', 'baseline', 'restricted']);

export const podSecurityAnalyzer: Analyzer = {
  area: 'pod-security',
  title: 'Pod Security Standards: restricted for every CDE workload',
  run(set) {
    return [...namespaceLabelResults(set), ...workloadResults(set)];
  },
};

function namespaceLabelResults(set: ManifestSet): CheckResult[] {
  const check = 'pod-security.namespace-labels';
  const scope = scopeDeclaration(set);
  if (!scope) return [{ check, requirement: REQ, status: 'fail', message: 'no ScopeDeclaration in the set: cannot tell which namespaces must enforce restricted; add manifests/spec/scope.yaml' }];
  const want = scope.spec.podSecurityVersion;
  const nsObjects = namespaceObjects(set);
  const out: CheckResult[] = [];
  for (const ns of inScopeNamespaces(set)) {
    const obj = nsObjects.get(ns);
    if (!obj) {
      out.push(at(scope.obj, { check, requirement: REQ, status: 'fail', message: `in-scope namespace ${ns} is not created by the set, so nothing labels it for Pod Security admission; add a Namespace with ${PREFIX}enforce: restricted` }, ['spec', 'namespaces']));
      continue;
    }
    const labels = obj.object.metadata.labels ?? {};
    // The scope label is what Kyverno's policies and the default-deny generator select on:
    // a declared CDE namespace without it silently drops out of both.
    const missingScope = Object.entries(scope.spec.scopeLabel ?? {}).filter(([k, v]) => labels[k] !== v);
    out.push(
      at(
        obj,
        missingScope.length
          ? { check, requirement: REQ, status: 'fail', message: `namespace ${ns} is declared in scope but lacks the scope label ${missingScope.map(([k, v]) => `${k}=${v}`).join(', ')}: Kyverno policies and the default-deny generator select on it; add the label` }
          : { check, requirement: REQ, status: 'pass', message: `namespace ${ns} carries the scope label` },
        ['metadata', 'labels'],
      ),
    );
    for (const mode of ['enforce', 'audit', 'warn'] as const) {
      const problems: string[] = [];
      const level = labels[`${PREFIX}${mode}`];
      const version = labels[`${PREFIX}${mode}-version`];
      if (level !== 'restricted') problems.push(`${PREFIX}${mode} is ${level === undefined ? 'missing' : `"${level}"`} (must be restricted)`);
      if (version === undefined) problems.push(`${PREFIX}${mode}-version is missing (defaults to latest: the standard would change under you on upgrade)`);
      else if (version === 'latest' || parseVersion(version).error)
        problems.push(`${PREFIX}${mode}-version is "${version}" (${version === 'latest' ? '' : 'malformed, so admission uses latest; '}pin a concrete version such as ${want ?? 'v1.34'})`);
      else if (want && version !== want) problems.push(`${PREFIX}${mode}-version is ${version} but the ScopeDeclaration pins ${want}`);
      const path = ['metadata', 'labels', ...(labels[`${PREFIX}${mode}`] === undefined ? [] : [`${PREFIX}${mode}`])];
      out.push(
        at(
          obj,
          problems.length
            ? { check, requirement: REQ, status: 'fail', message: `namespace ${ns}: ${problems.join('; ')}` }
            : { check, requirement: REQ, status: 'pass', message: `namespace ${ns} ${mode}s restricted pinned at ${version}` },
          path,
        ),
      );
    }
  }
  return out;
}

/** The enforce policy admission derives from a namespace's labels (api.PolicyToEvaluate with the default privileged policy). */
export function enforcedPolicy(labels: Record<string, string>): { level: Level | 'privileged'; version: PolicyVersion; levelError?: string } {
  const raw = labels[`${PREFIX}enforce`];
  const version = parseVersion(labels[`${PREFIX}enforce-version`]);
  if (raw === undefined) return { level: 'privileged', version };
  if (!LEVELS.has(raw)) return { level: 'restricted', version, levelError: `${PREFIX}enforce "${raw}" is not privileged, baseline or restricted: admission enforces restricted` };
  return { level: raw as Level | 'privileged', version };
}

const vLabel = (minor: number) => `v1.${minor}`;

/** Violations at each version, deduplicated (same check, same field). */
function evaluateAt(t: PodTemplate, level: Level, minors: number[]): { v: Violation; minor: number }[] {
  const seen = new Set<string>();
  const out: { v: Violation; minor: number }[] = [];
  for (const minor of [...new Set(minors)])
    for (const v of evaluatePodSecurity(t, level, minor)) {
      const key = `${v.id}\0${v.path.join('\0')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ v, minor });
    }
  return out;
}

function workloadResults(set: ManifestSet): CheckResult[] {
  const inScope = new Set(inScopeNamespaces(set));
  const nsObjects = namespaceObjects(set);
  const declared = scopeDeclaration(set)?.spec.podSecurityVersion;
  const out: CheckResult[] = [];
  for (const t of podTemplates(set)) {
    const id = `${t.kind} ${t.namespace}/${t.name}`;
    const policy = enforcedPolicy(nsObjects.get(t.namespace)?.object.metadata.labels ?? {});
    if (inScope.has(t.namespace)) {
      const minors = [policy.version.minor, ...(declared ? [parseVersion(declared).minor] : [])];
      const vs = evaluateAt(t, 'restricted', minors);
      for (const { v, minor } of vs)
        out.push(at(t.owner, { check: 'pod-security.restricted', requirement: REQ, status: 'fail', message: `${id} ${v.where}: ${v.message} (Pod Security Standard restricted ${vLabel(minor)}, check ${v.id})` }, v.path));
      if (vs.length === 0) out.push(at(t.owner, { check: 'pod-security.restricted', requirement: REQ, status: 'pass', message: `${id} meets Pod Security Standard restricted ${[...new Set(minors)].map(vLabel).join(' and ')} (all containers, init and ephemeral containers)` }));
      continue;
    }
    // Outside scope: what the namespace's labels enforce (no label = privileged, i.e. nothing).
    if (policy.level === 'privileged') continue;
    const level = policy.level;
    const enforces = `${level} ${vLabel(policy.version.minor)}${policy.version.label !== vLabel(policy.version.minor) ? ` (enforce-version ${policy.version.label}${policy.version.error ? `: ${policy.version.error}, so latest` : ''})` : ''}${policy.levelError ? ` (${policy.levelError})` : ''}`;
    const vs = evaluatePodSecurity(t, level, policy.version.minor);
    for (const v of vs)
      out.push(at(t.owner, { check: 'pod-security.enforced', requirement: REQ, status: 'fail', message: `${id} ${v.where}: ${v.message} (check ${v.id}); namespace ${t.namespace} enforces ${enforces}, so its pods would be rejected at admission` }, v.path));
    if (vs.length === 0) out.push(at(t.owner, { check: 'pod-security.enforced', requirement: REQ, status: 'pass', message: `${id} meets the ${enforces} level its namespace enforces` }));
  }
  return out;
}
