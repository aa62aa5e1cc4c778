import { at, type CheckResult } from '../../check/types.ts';
import type { ManifestSet } from '../../manifests/types.ts';
import { hasWildcard, isFullWildcard, ruleAllowsAnyName } from './match.ts';
import { cdeNamespaces } from './scope.ts';
import { bindingLabel, grantLocation, roleLabel, subjectLabel, type EffectivePermissions, type Grant } from './types.ts';

function grantResult(g: Grant, r: Omit<CheckResult, 'object' | 'file' | 'line'>): CheckResult {
  return g.role.object ? at(g.role.object, r, ['rules', g.role.ruleIndex]) : at(g.binding, r, ['roleRef']);
}

/** Identity of the rule a grant comes from, so one bad rule yields one finding. */
function ruleKey(g: Grant): string {
  const loc = grantLocation(g);
  return `${bindingLabel(g.binding)}|${roleLabel(g.role)}|${g.role.ruleIndex}|${loc.file}:${loc.line}`;
}

/** rbac.no-wildcards: a bound Role/ClusterRole must list verbs, groups and resources explicitly. */
export function noWildcards(eff: EffectivePermissions): CheckResult[] {
  const seen = new Map<string, { g: Grant; subjects: Set<string> }>();
  for (const sp of eff.subjects) {
    for (const g of sp.grants) {
      if (!hasWildcard(g.rule)) continue;
      const k = ruleKey(g);
      const e = seen.get(k) ?? { g, subjects: new Set<string>() };
      e.subjects.add(subjectLabel(g.bindingSubject));
      seen.set(k, e);
    }
  }
  if (seen.size === 0) {
    return [{ check: 'rbac.no-wildcards', requirement: '7.2.2', status: 'pass', message: 'no Role or ClusterRole bound to a subject uses `*` in verbs, apiGroups, resources or nonResourceURLs' }];
  }
  return [...seen.values()].map(({ g, subjects }) =>
    grantResult(g, {
      check: 'rbac.no-wildcards',
      requirement: '7.2.2',
      status: 'fail',
      message: `${roleLabel(g.role)} rule ${g.role.ruleIndex} uses a wildcard (verbs ${JSON.stringify(g.rule.verbs)}, apiGroups ${JSON.stringify(g.rule.apiGroups)}, resources ${JSON.stringify(g.rule.resources)}) and is bound by ${bindingLabel(g.binding)} to ${[...subjects].join(', ')}; list exact verbs and resources`,
    }),
  );
}

const SECRET_READ_VERBS = ['get', 'list', 'watch'];

/** rbac.no-secrets: nobody reads Secrets in a CDE namespace through the API (directly, by wildcard or built-in role). */
export function noSecrets(set: ManifestSet, eff: EffectivePermissions): CheckResult[] {
  const cde = cdeNamespaces(set);
  const found = new Map<string, { g: Grant; hits: Set<string> }>();
  for (const sp of eff.subjects) {
    for (const g of sp.grants) {
      const namespaces = g.scope === null ? [...cde] : cde.has(g.scope) ? [g.scope] : [];
      for (const ns of namespaces) {
        const verbs = SECRET_READ_VERBS.filter((verb) => ruleAllowsAnyName(g.rule, { verb, apiGroup: '', resource: 'secrets' }));
        if (verbs.length === 0) continue;
        const k = ruleKey(g);
        const e = found.get(k) ?? { g, hits: new Set<string>() };
        e.hits.add(`${subjectLabel(sp.subject)} can ${verbs.join('/')} secrets in ${ns}`);
        found.set(k, e);
      }
    }
  }
  if (found.size === 0) {
    return [{ check: 'rbac.no-secrets', requirement: '7.2.2', status: 'pass', message: `no subject can get, list or watch Secrets in the CDE namespaces (${[...cde].sort().join(', ') || 'none declared'})` }];
  }
  return [...found.values()].map(({ g, hits }) => {
    const list = [...hits];
    return grantResult(g, {
      check: 'rbac.no-secrets',
      requirement: '7.2.2',
      status: 'fail',
      message: `${bindingLabel(g.binding)} → ${roleLabel(g.role)} lets ${list.slice(0, 4).join('; ')}${list.length > 4 ? ` … (${list.length} in all)` : ''}. Deliver credentials without API read access (mounted volume or external secret store) and drop the rule`,
    });
  });
}

/** rbac.no-cluster-admin: no `*`/`*`/`*` grant reaches a CDE namespace, a CDE ServiceAccount, or a bound group. */
export function noClusterAdmin(set: ManifestSet, eff: EffectivePermissions): CheckResult[] {
  const cde = cdeNamespaces(set);
  const found = new Map<string, { g: Grant; why: Set<string> }>();
  for (const sp of eff.subjects) {
    for (const g of sp.grants) {
      if (!isFullWildcard(g.rule)) continue;
      const why: string[] = [];
      if (g.scope === null) why.push('cluster-wide, so in every CDE namespace');
      else if (cde.has(g.scope)) why.push(`in CDE namespace ${g.scope}`);
      if (sp.subject.kind === 'ServiceAccount' && cde.has(sp.subject.namespace ?? '')) why.push(`to CDE ${subjectLabel(sp.subject)}`);
      if (g.bindingSubject.kind === 'Group') why.push(`to group ${g.bindingSubject.name}`);
      if (why.length === 0) continue;
      const k = ruleKey(g);
      const e = found.get(k) ?? { g, why: new Set<string>() };
      for (const w of why) e.why.add(w);
      found.set(k, e);
    }
  }
  if (found.size === 0) {
    return [{ check: 'rbac.no-cluster-admin', requirement: '7.2.1', status: 'pass', message: 'no binding in the set grants cluster-admin or an equivalent `*` on every resource to a CDE namespace, CDE ServiceAccount or group (built-in system:masters is outside the set)' }];
  }
  return [...found.values()].map(({ g, why }) =>
    at(g.binding, {
      check: 'rbac.no-cluster-admin',
      requirement: '7.2.1',
      status: 'fail',
      message: `${bindingLabel(g.binding)} grants ${roleLabel(g.role)} (every verb on every resource) to ${subjectLabel(g.bindingSubject)}: ${[...why].join('; ')}. Replace it with a role limited to the job function`,
    }, ['roleRef']),
  );
}
