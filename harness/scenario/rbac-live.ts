import { join } from 'node:path';
import { effectivePermissions } from '../analyzers/rbac/effective.ts';
import { accessTables, cdeNamespaces } from '../analyzers/rbac/scope.ts';
import { loadManifestDir } from '../manifests/load.ts';
import { liveManifestsDir } from './context.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { atoms, type Atom } from '../analyzers/rbac/access-table.ts';
import { ruleAllows, type ResourceRequest } from '../analyzers/rbac/match.ts';
import { bindingLabel, roleLabel, subjectLabel, type EffectivePermissions, type PolicyRule, type Subject } from '../analyzers/rbac/types.ts';

/**
 * Predicted vs observed, the RBAC half: what the offline model
 * (`rbac.least-privilege`'s effective permissions, harness/analyzers/rbac)
 * says an identity may do in a namespace, against what the live API server
 * answers in a SelfSubjectRulesReview made under impersonation of that
 * identity. Pure: no cluster here (suites/live/scenarios/insider-rbac.test.ts
 * asks the cluster).
 *
 * What is compared, precisely: every elementary permission (verb × apiGroup ×
 * resource[/subresource] × resourceName, and verb × nonResourceURL) in the
 * review's rules, expanded literally the way the offline analyzer expands a
 * rule (`atoms`, wildcards kept as `*`), must equal the set predicted for the
 * same identity in the same namespace:
 *   - every grant of the set whose binding subject covers the identity (the
 *     user itself, each of its groups — as `effectivePermissions` resolves
 *     them, built-in ClusterRoles through builtin-roles.ts) and whose scope is
 *     that namespace or cluster-wide (a SelfSubjectRulesReview in a namespace
 *     returns RoleBinding rules of that namespace AND ClusterRoleBinding
 *     rules, indistinguishably);
 *   - plus the bootstrap bindings every cluster adds for groups the
 *     authenticator always sets (`CLUSTER_DEFAULT_BINDINGS` below: the self
 *     reviews and the discovery / health / OIDC URLs). They are not in the set,
 *     the offline analyzer does not see them, and they grant nothing the access
 *     table governs (no namespaced resource, no Secret, no pod subresource).
 * Both directions count: a live permission the model did not predict is an
 * extra grant on the cluster (a binding outside the set, a drifted role); a
 * predicted permission the cluster does not give is a set that was not
 * applied as reviewed. Either is `PREDICTION MISMATCH`.
 */

/** authorization.k8s.io/v1 SelfSubjectRulesReview status, as the API returns it. */
export interface RulesReviewStatus {
  resourceRules?: Array<{ verbs?: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }>;
  nonResourceRules?: Array<{ verbs?: string[]; nonResourceURLs?: string[] }>;
  incomplete?: boolean;
  evaluationError?: string;
}

/** The identity the API server sees under impersonation. */
export interface Identity {
  subject: Subject;
  user: string;
  groups: string[];
  /** kubectl flags that impersonate it. */
  args: string[];
}

/**
 * How an access-table subject is impersonated: a ServiceAccount as its own
 * user (the API server adds system:serviceaccounts, system:serviceaccounts:<ns>
 * and system:authenticated — pkg/endpoints/filters/impersonation.go); a Group
 * as a throw-away user `insiderUser` in that group (plus system:authenticated,
 * which impersonation always adds); a User as itself.
 */
export function identityOf(subject: Subject, insiderUser: string): Identity {
  if (subject.kind === 'ServiceAccount') {
    const ns = subject.namespace ?? '';
    const user = `system:serviceaccount:${ns}:${subject.name}`;
    return { subject, user, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'], args: [`--as=${user}`] };
  }
  if (subject.kind === 'Group') {
    return { subject, user: insiderUser, groups: [subject.name, 'system:authenticated'], args: [`--as=${insiderUser}`, `--as-group=${subject.name}`] };
  }
  return { subject, user: subject.name, groups: ['system:authenticated'], args: [`--as=${subject.name}`] };
}

const rule = (verbs: string[], apiGroups: string[], resources: string[], nonResourceURLs: string[] = []): PolicyRule => ({ verbs, apiGroups, resources, resourceNames: [], nonResourceURLs });

/**
 * Bootstrap ClusterRoleBindings Kubernetes 1.34 creates in every cluster for
 * groups every authenticated identity (or every ServiceAccount) carries, with
 * their roles' rules — kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go
 * (ClusterRoles, ClusterRoleBindings). The other bootstrap bindings name
 * system users/groups (system:masters, system:nodes, controllers) that no
 * access-table subject is impersonated into.
 */
export const CLUSTER_DEFAULT_BINDINGS: ReadonlyArray<{ binding: string; group: string; rules: PolicyRule[] }> = [
  {
    binding: 'system:basic-user',
    group: 'system:authenticated',
    rules: [rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews'])],
  },
  {
    binding: 'system:discovery',
    group: 'system:authenticated',
    rules: [rule(['get'], [], [], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])],
  },
  {
    binding: 'system:public-info-viewer',
    group: 'system:authenticated',
    rules: [rule(['get'], [], [], ['/healthz', '/livez', '/readyz', '/version', '/version/'])],
  },
  {
    binding: 'system:service-account-issuer-discovery',
    group: 'system:serviceaccounts',
    rules: [rule(['get'], [], [], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])],
  },
];

/** `get /healthz`, `list secrets`, `get configmaps/payment-api-config`, `list deployments.apps`. */
export function atomKey(a: Atom): string {
  if (a.nonResourceURL !== undefined) return `${a.verb} ${a.nonResourceURL}`;
  const gr = a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`;
  return `${a.verb} ${gr}${a.name !== undefined ? ` name=${a.name}` : ''}`;
}

export interface Predicted {
  /** atom key → where it comes from (binding → role, or the bootstrap binding). */
  atoms: Map<string, string>;
}

/** Does a binding subject (as `effectivePermissions` lists it) cover the identity? */
function covers(s: Subject, id: Identity): boolean {
  if (s.kind === 'Group') return id.groups.includes(s.name);
  if (s.kind === 'User') return s.name === id.user;
  return id.subject.kind === 'ServiceAccount' && s.name === id.subject.name && s.namespace === id.subject.namespace;
}

/**
 * What the model predicts a SelfSubjectRulesReview in `namespace` returns
 * for `id`: the set's grants (namespace or cluster-wide scope) of every
 * subject covering it, plus the bootstrap defaults of its groups.
 */
export function predictRules(eff: EffectivePermissions, id: Identity, namespace: string): Predicted {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  for (const sp of eff.subjects) {
    // Direct grants of every subject that covers the identity (each grant once: a Group's grants also appear under SAs it covers).
    if (!covers(sp.subject, id)) continue;
    for (const g of sp.grants) {
      if (g.scope !== null && g.scope !== namespace) continue;
      const where = `${bindingLabel(g.binding)} → ${roleLabel(g.role)}`;
      for (const a of atoms(g.rule)) {
        const k = atomKey(a);
        if (!seen.has(k)) {
          seen.add(k);
          out.set(k, where);
        }
      }
    }
  }
  for (const d of CLUSTER_DEFAULT_BINDINGS) {
    if (!id.groups.includes(d.group)) continue;
    for (const r of d.rules) for (const a of atoms(r)) if (!out.has(atomKey(a))) out.set(atomKey(a), `ClusterRoleBinding ${d.binding} (bootstrap, group ${d.group})`);
  }
  return { atoms: out };
}

/**
 * Does the model predict that `id` may make `req` in `namespace`? (The set's
 * grants covering it, with upstream rule matching; the bootstrap defaults
 * grant no namespaced resource.) Returns the granting binding → role, or
 * undefined when nothing grants it.
 */
export function predictAllows(eff: EffectivePermissions, id: Identity, namespace: string, req: ResourceRequest): string | undefined {
  for (const sp of eff.subjects) {
    if (!covers(sp.subject, id)) continue;
    for (const g of sp.grants) {
      if (g.scope !== null && g.scope !== namespace) continue;
      if (ruleAllows(g.rule, req)) return `${bindingLabel(g.binding)} → ${roleLabel(g.role)}`;
    }
  }
  return undefined;
}

/** The review's rules expanded into the same atoms. */
export function observedAtoms(status: RulesReviewStatus): Set<string> {
  const out = new Set<string>();
  for (const r of status.resourceRules ?? []) {
    const pr: PolicyRule = { verbs: r.verbs ?? [], apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], resourceNames: r.resourceNames ?? [], nonResourceURLs: [] };
    for (const a of atoms(pr)) out.add(atomKey(a));
  }
  for (const r of status.nonResourceRules ?? []) {
    for (const a of atoms({ verbs: r.verbs ?? [], apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: r.nonResourceURLs ?? [] })) out.add(atomKey(a));
  }
  return out;
}

export interface RbacComparison {
  identity: string;
  namespace: string;
  /** The review could not list everything (an authorizer that cannot enumerate): no verdict. */
  incomplete: boolean;
  /** Live permissions the model does not predict. */
  extra: string[];
  /** Predicted permissions the cluster does not give, with where the model got them. */
  missing: string[];
  equal: boolean;
  /** How many atoms each side had. */
  counts: { predicted: number; observed: number };
}

export function compareRules(eff: EffectivePermissions, id: Identity, namespace: string, status: RulesReviewStatus): RbacComparison {
  const predicted = predictRules(eff, id, namespace);
  const observed = observedAtoms(status);
  const extra = [...observed].filter((k) => !predicted.atoms.has(k)).sort();
  const missing = [...predicted.atoms].filter(([k]) => !observed.has(k)).map(([k, where]) => `${k} (${where})`).sort();
  const incomplete = status.incomplete === true;
  return {
    identity: `${subjectLabel(id.subject)} as user "${id.user}" groups [${id.groups.join(', ')}]`,
    namespace,
    incomplete,
    extra,
    missing,
    equal: !incomplete && extra.length === 0 && missing.length === 0,
    counts: { predicted: predicted.atoms.size, observed: observed.size },
  };
}

/** One line for a finding: `PREDICTION MISMATCH ...` naming both directions. */
export function describeMismatch(c: RbacComparison): string {
  const parts: string[] = [];
  if (c.extra.length) parts.push(`the cluster grants what the model does not predict: ${c.extra.slice(0, 8).join('; ')}${c.extra.length > 8 ? ` … (${c.extra.length})` : ''}`);
  if (c.missing.length) parts.push(`the model predicts what the cluster does not grant: ${c.missing.slice(0, 8).join('; ')}${c.missing.length > 8 ? ` … (${c.missing.length})` : ''}`);
  return `PREDICTION MISMATCH ${c.identity} in namespace ${c.namespace}: ${parts.join(' | ')}`;
}

/**
 * What an insider scenario stands on, from the shipped set: every subject's
 * effective permissions (the offline `rbac.least-privilege` computation),
 * the CDE namespaces, and the human subjects of the access table.
 */
export function insiderModel(manifestsDir = liveManifestsDir()): { set: ManifestSet; eff: EffectivePermissions; cde: string[]; humans: Subject[] } {
  const set = loadManifestDir(manifestsDir);
  return {
    set,
    eff: effectivePermissions(set),
    cde: [...cdeNamespaces(set)].sort(),
    humans: accessTables(set)
      .flatMap((t) => t.spec.subjects ?? [])
      .map((x) => x.subject as Subject)
      .filter((x) => x.kind === 'Group' || x.kind === 'User'),
  };
}
