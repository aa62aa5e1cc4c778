import { at, type Analyzer, type CheckResult } from '../check/types.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { evaluatePodSecurity, type Level } from './pod-security/checks.ts';
import { inScopeNamespaces, namespaceObjects, podTemplates, scopeDeclaration } from './workloads.ts';

export { evaluatePodSecurity } from './pod-security/checks.ts';

/**
 * Pod Security Standards (requirement 2.2.1, secure configuration standards):
 * every workload in scope meets `restricted`; every in-scope namespace makes
 * the PodSecurity admission plugin enforce, audit and warn at restricted with
 * a pinned version. Workloads elsewhere are checked against the level their
 * namespace enforces, as admission would (PSA checks Pods, so a failing
 * Deployment is admitted but its pods never start: guide defect 11).
 */
const REQ = '2.2.1';
const PREFIX = 'pod-security.kubernetes.io/';
const LEVELS = new Set(['privileged', 'baseline', 'restricted']);
const PINNED = /^v1\.\d+$/;

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
      else if (!PINNED.test(version)) problems.push(`${PREFIX}${mode}-version is "${version}" (pin a concrete version such as ${want ?? 'v1.34'})`);
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

function workloadResults(set: ManifestSet): CheckResult[] {
  const inScope = new Set(inScopeNamespaces(set));
  const nsObjects = namespaceObjects(set);
  const out: CheckResult[] = [];
  for (const t of podTemplates(set)) {
    const id = `${t.kind} ${t.namespace}/${t.name}`;
    if (inScope.has(t.namespace)) {
      const vs = evaluatePodSecurity(t, 'restricted');
      for (const v of vs)
        out.push(at(t.owner, { check: 'pod-security.restricted', requirement: REQ, status: 'fail', message: `${id} ${v.where}: ${v.message} (Pod Security Standard restricted, check ${v.id})` }, v.path));
      if (vs.length === 0) out.push(at(t.owner, { check: 'pod-security.restricted', requirement: REQ, status: 'pass', message: `${id} meets Pod Security Standard restricted (all containers, init and ephemeral containers)` }));
      continue;
    }
    // Outside scope: what the namespace's labels enforce (no label = privileged, i.e. nothing).
    const enforce = nsObjects.get(t.namespace)?.object.metadata.labels?.[`${PREFIX}enforce`];
    if (!enforce || !LEVELS.has(enforce) || enforce === 'privileged') continue;
    const vs = evaluatePodSecurity(t, enforce as Level);
    for (const v of vs)
      out.push(at(t.owner, { check: 'pod-security.enforced', requirement: REQ, status: 'fail', message: `${id} ${v.where}: ${v.message}; namespace ${t.namespace} enforces ${enforce}, so its pods would be rejected at admission` }, v.path));
    if (vs.length === 0) out.push(at(t.owner, { check: 'pod-security.enforced', requirement: REQ, status: 'pass', message: `${id} meets the ${enforce} level its namespace enforces` }));
  }
  return out;
}
