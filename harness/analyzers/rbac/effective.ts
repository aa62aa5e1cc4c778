import type { LoadedObject, ManifestSet } from '../../manifests/types.ts';
import { BUILTIN_CLUSTER_ROLES, builtinClusterRole } from './builtin-roles.ts';
import { readRules, selectorMatches } from './rules.ts';
import {
  subjectKey,
  type BindingProblem,
  type EffectivePermissions,
  type Grant,
  type PolicyRule,
  type RoleSource,
  type Subject,
  type SubjectPermissions,
} from './types.ts';

interface ResolvedRule {
  rule: PolicyRule;
  source: RoleSource;
}

/** Resolves roleRefs against the set, falling back to the built-in bootstrap ClusterRoles. */
class RoleResolver {
  private readonly roles = new Map<string, LoadedObject>();
  private readonly clusterRoles = new Map<string, LoadedObject>();
  private readonly cache = new Map<string, ResolvedRule[] | undefined>();

  constructor(objects: LoadedObject[]) {
    for (const o of objects) {
      if (o.object.apiVersion !== 'rbac.authorization.k8s.io/v1') continue;
      if (o.object.kind === 'Role') this.roles.set(`${o.object.metadata.namespace}/${o.object.metadata.name}`, o);
      if (o.object.kind === 'ClusterRole') this.clusterRoles.set(o.object.metadata.name, o);
    }
  }

  role(namespace: string, name: string): ResolvedRule[] | undefined {
    const o = this.roles.get(`${namespace}/${name}`);
    if (!o) return undefined;
    return readRules(o.object.rules).map((rule, ruleIndex) => ({ rule, source: { kind: 'Role', name, namespace, object: o, ruleIndex } }));
  }

  clusterRole(name: string, visiting = new Set<string>()): ResolvedRule[] | undefined {
    if (this.cache.has(name)) return this.cache.get(name);
    if (visiting.has(name)) return []; // aggregation cycle: the controller would converge on the union, which we already collect
    visiting.add(name);
    const result = this.resolveClusterRole(name, visiting);
    visiting.delete(name);
    if (visiting.size === 0) this.cache.set(name, result);
    return result;
  }

  private resolveClusterRole(name: string, visiting: Set<string>): ResolvedRule[] | undefined {
    const o = this.clusterRoles.get(name);
    const builtin = o ? undefined : builtinClusterRole(name);
    if (!o && !builtin) return undefined;
    // aggregationRule: the clusterrole-aggregation controller REPLACES rules with the union of the
    // selected ClusterRoles' rules (kubernetes/pkg/controller/clusterroleaggregation).
    const selectors: unknown[] = o
      ? (((o.object.aggregationRule as { clusterRoleSelectors?: unknown[] } | undefined)?.clusterRoleSelectors) ?? [])
      : (builtin?.aggregatesLabels ?? []).map((k) => ({ matchLabels: { [k]: 'true' } }));
    const aggregated = o ? o.object.aggregationRule !== undefined : (builtin?.aggregatesLabels?.length ?? 0) > 0;
    if (!aggregated) {
      if (o) return readRules(o.object.rules).map((rule, ruleIndex) => ({ rule, source: { kind: 'ClusterRole', name, object: o, ruleIndex } }));
      return (builtin?.rules ?? []).map((rule, ruleIndex) => ({ rule, source: { kind: 'ClusterRole', name, ruleIndex } }));
    }
    const out: ResolvedRule[] = [];
    for (const candidate of this.allClusterRoleLabels()) {
      if (candidate.name === name) continue;
      if (!selectors.some((s) => selectorMatches(s, candidate.labels))) continue;
      for (const r of this.clusterRole(candidate.name, visiting) ?? []) {
        // Name the bound role; keep the origin object (for file:line) and the role it came from.
        out.push({ rule: r.rule, source: { ...r.source, kind: 'ClusterRole', name, aggregatedFrom: r.source.aggregatedFrom ?? candidate.name } });
      }
    }
    return out;
  }

  private allClusterRoleLabels(): Array<{ name: string; labels: Record<string, string> }> {
    const out = [...this.clusterRoles.values()].map((o) => ({ name: o.object.metadata.name, labels: o.object.metadata.labels ?? {} }));
    for (const b of BUILTIN_CLUSTER_ROLES) if (!this.clusterRoles.has(b.name)) out.push({ name: b.name, labels: b.labels });
    return out;
  }
}

interface RawSubject {
  kind?: unknown;
  name?: unknown;
  namespace?: unknown;
}

/**
 * Subjects a binding names, as the RBAC authorizer reads them
 * (kubernetes/plugin/pkg/auth/authorizer/rbac/rbac.go appliesToUser): a ServiceAccount
 * subject without namespace defaults to the RoleBinding's namespace; in a ClusterRoleBinding
 * the apiserver rejects it (pkg/apis/rbac/validation). The harness flags both: a PCI set must
 * say which namespace it grants to.
 */
function bindingSubjects(b: LoadedObject, problems: BindingProblem[]): Subject[] {
  const raw = b.object.subjects;
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.push({ binding: b, path: ['subjects'], message: 'subjects is not a list' });
    return [];
  }
  const out: Subject[] = [];
  raw.forEach((s: RawSubject, i) => {
    const kind = s?.kind;
    const name = s?.name;
    if ((kind !== 'ServiceAccount' && kind !== 'User' && kind !== 'Group') || typeof name !== 'string' || name === '') {
      problems.push({ binding: b, path: ['subjects', i], message: `subject ${i} needs kind ServiceAccount, User or Group and a name` });
      return;
    }
    if (kind !== 'ServiceAccount') {
      out.push({ kind, name });
      return;
    }
    let namespace = typeof s.namespace === 'string' && s.namespace !== '' ? s.namespace : undefined;
    if (namespace === undefined) {
      const inRoleBinding = b.object.kind === 'RoleBinding';
      problems.push({
        binding: b,
        path: ['subjects', i],
        message: inRoleBinding
          ? `ServiceAccount subject "${name}" has no namespace (upstream defaults it to the binding's namespace "${b.object.metadata.namespace}"); state it explicitly`
          : `ServiceAccount subject "${name}" has no namespace; the apiserver rejects this ClusterRoleBinding`,
      });
      if (!inRoleBinding) return;
      namespace = b.object.metadata.namespace;
    }
    out.push({ kind, name, namespace });
  });
  return out;
}

/** Keys of the binding subjects that apply to a subject: itself plus the groups the authenticator puts it in. */
function coveringKeys(s: Subject): string[] {
  if (s.kind === 'Group') return [subjectKey(s)];
  if (s.kind === 'User') {
    const group = s.name === 'system:anonymous' ? 'system:unauthenticated' : 'system:authenticated';
    return [subjectKey(s), subjectKey({ kind: 'Group', name: group })];
  }
  // ServiceAccount token authenticator: user system:serviceaccount:<ns>:<name>, groups
  // system:serviceaccounts, system:serviceaccounts:<ns>, system:authenticated
  // (k8s.io/apiserver/pkg/authentication/serviceaccount/util.go).
  const ns = s.namespace ?? '';
  return [
    subjectKey(s),
    subjectKey({ kind: 'User', name: `system:serviceaccount:${ns}:${s.name}` }),
    subjectKey({ kind: 'Group', name: 'system:serviceaccounts' }),
    subjectKey({ kind: 'Group', name: `system:serviceaccounts:${ns}` }),
    subjectKey({ kind: 'Group', name: 'system:authenticated' }),
  ];
}

/**
 * Effective permissions of every subject: each ServiceAccount declared in the set and every
 * User, Group and ServiceAccount named by a binding. A RoleBinding grants its role in its own
 * namespace only (also when it references a ClusterRole); a ClusterRoleBinding grants everywhere.
 */
export function effectivePermissions(set: ManifestSet): EffectivePermissions {
  const objects = set.objects;
  const resolver = new RoleResolver(objects);
  const problems: BindingProblem[] = [];
  const grantsByKey = new Map<string, Grant[]>();
  const universe = new Map<string, SubjectPermissions>();
  const addSubject = (subject: Subject, declared: boolean) => {
    const k = subjectKey(subject);
    const prev = universe.get(k);
    if (prev) prev.declared ||= declared;
    else universe.set(k, { subject, grants: [], declared });
  };

  for (const o of objects) {
    if (o.object.apiVersion === 'v1' && o.object.kind === 'ServiceAccount') {
      addSubject({ kind: 'ServiceAccount', name: o.object.metadata.name, namespace: o.object.metadata.namespace }, true);
    }
  }

  for (const b of objects) {
    const kind = b.object.kind;
    if (b.object.apiVersion !== 'rbac.authorization.k8s.io/v1' || (kind !== 'RoleBinding' && kind !== 'ClusterRoleBinding')) continue;
    const subjects = bindingSubjects(b, problems);
    for (const s of subjects) addSubject(s, false);
    const ref = (b.object.roleRef ?? {}) as { kind?: unknown; name?: unknown; apiGroup?: unknown };
    const refName = typeof ref.name === 'string' ? ref.name : '';
    let rules: ResolvedRule[] | undefined;
    if (ref.apiGroup !== 'rbac.authorization.k8s.io') {
      problems.push({ binding: b, path: ['roleRef'], message: 'roleRef.apiGroup must be rbac.authorization.k8s.io' });
    } else if (ref.kind === 'ClusterRole') {
      rules = resolver.clusterRole(refName);
      if (!rules) {
        problems.push({ binding: b, path: ['roleRef'], message: `roleRef names ClusterRole "${refName}", which is neither in the set nor a known built-in role; the binding grants whatever a ClusterRole of that name is later made to hold` });
      }
    } else if (ref.kind === 'Role' && kind === 'RoleBinding') {
      rules = resolver.role(b.object.metadata.namespace ?? '', refName);
      if (!rules) {
        problems.push({ binding: b, path: ['roleRef'], message: `roleRef names Role "${refName}" in namespace "${b.object.metadata.namespace}", which the set does not define; the binding grants whatever a Role of that name is later made to hold` });
      }
    } else {
      problems.push({ binding: b, path: ['roleRef'], message: `roleRef.kind "${String(ref.kind)}" is not valid in a ${kind}` });
    }
    if (!rules) continue;
    const scope = kind === 'RoleBinding' ? (b.object.metadata.namespace ?? '') : null;
    for (const s of subjects) {
      const k = subjectKey(s);
      const list = grantsByKey.get(k) ?? [];
      for (const r of rules) list.push({ bindingSubject: s, scope, rule: r.rule, role: r.source, binding: b });
      grantsByKey.set(k, list);
    }
  }

  for (const sp of universe.values()) {
    sp.grants = coveringKeys(sp.subject).flatMap((k) => grantsByKey.get(k) ?? []);
  }
  return { subjects: [...universe.values()], problems };
}
