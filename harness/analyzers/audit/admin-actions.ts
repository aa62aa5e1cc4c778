/**
 * PCI DSS v4.0 10.2.1.2: every action by anyone with administrative access is
 * logged. Part of audit.levels, in two halves:
 *
 * 1. The request table (AuditExpectations) must speak about the privileged
 *    identities, not only the CDE's own subjects: a cluster admin in
 *    system:masters, a member of a group bound to cluster-admin
 *    (kubeadm:cluster-admins, what kind's admin.conf carries, or a group the
 *    set binds), and a component identity (system:kube-controller-manager,
 *    system:kube-scheduler, system:serviceaccount:kube-system:*) whose action
 *    must be logged.
 * 2. Independently of the table, every request shape an administrator can
 *    send (resource × verb × namespace × name the policy mentions, plus
 *    non-resource URLs) is evaluated first-match as the apiserver does; each
 *    one must be logged (level ≥ Metadata) and still produce an event
 *    (RequestReceived or ResponseComplete not both omitted: ResponseStarted
 *    exists only for long-running requests). A `level: None` rule keyed on
 *    `users`/`userGroups` that catch admins, a None rule for all
 *    authenticated users, or an `omitStages` that drops both stages fails,
 *    naming the rule. Only the read-only health/version endpoints
 *    (/healthz, /livez, /readyz, /version) may be dropped: they carry no data
 *    and change nothing.
 *
 * Impersonation: the apiserver evaluates the policy in WithAudit, BEFORE
 * WithImpersonation swaps the user (k8s.io/apiserver pkg/server/config.go
 * DefaultBuildHandlerChain), so `kubectl --as=X` is matched as the
 * impersonator. A rule keyed on the impersonated identity cannot silence an
 * admin's impersonated request; one keyed on the admin does, and is caught
 * here like any other admin request.
 */
import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject, ManifestSet } from '../../manifests/types.ts';
import type { AuditExpectationsSpec } from '../../spec/types.ts';
import { specDocuments } from '../rbac/scope.ts';
import { decodeAuditPolicy, describeRequest, LEVELS, ruleMatches, type AuditPolicy, type AuditRequest } from './policy.ts';

const CHECK = 'audit.levels';
const REQ = '10.2.1.2';

/** Cluster-admin by construction: system:masters bypasses authorization; kubeadm binds kubeadm:cluster-admins to cluster-admin. */
export const MASTERS = 'system:masters';
export const KUBEADM_ADMINS = 'kubeadm:cluster-admins';
const ADMIN_ROLES = new Set(['cluster-admin', 'admin']);
const COMPONENT_USERS = new Set(['system:kube-controller-manager', 'system:kube-scheduler']);
const isComponent = (user: string | undefined) => user !== undefined && (COMPONENT_USERS.has(user) || user.startsWith('system:serviceaccount:kube-system:'));

/** Read-only endpoints without data: the only requests an admin may send unlogged. */
const HEALTH = [/^\/(healthz|livez|readyz)/, /^\/version\/?$/];
const isHealth = (req: AuditRequest) => req.resource === undefined && HEALTH.some((re) => re.test(req.nonResourceURL ?? ''));

interface Identity {
  user: string;
  groups: string[];
  why: string;
}

/** Users and groups bound to cluster-admin/admin by the set's (Cluster)RoleBindings. */
function setAdmins(set: ManifestSet): Identity[] {
  const out: Identity[] = [];
  for (const o of set.objects) {
    const b = o.object as { kind: string; apiVersion?: string; roleRef?: { kind?: string; name?: string }; subjects?: Array<{ kind?: string; name?: string; namespace?: string }> };
    if ((b.kind !== 'ClusterRoleBinding' && b.kind !== 'RoleBinding') || !b.apiVersion?.startsWith('rbac.authorization.k8s.io/')) continue;
    if (b.roleRef?.kind !== 'ClusterRole' || !ADMIN_ROLES.has(b.roleRef.name ?? '')) continue;
    for (const s of b.subjects ?? []) {
      const why = `${b.kind}/${o.object.metadata.name} → ${b.roleRef.name}`;
      if (s.kind === 'Group' && s.name) out.push({ user: 'pci-harness:probe-admin', groups: [s.name, 'system:authenticated'], why: `member of ${s.name} (${why})` });
      if (s.kind === 'User' && s.name) out.push({ user: s.name, groups: ['system:authenticated'], why: `user ${s.name} (${why})` });
      if (s.kind === 'ServiceAccount' && s.name && s.namespace) {
        out.push({ user: `system:serviceaccount:${s.namespace}:${s.name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${s.namespace}`, 'system:authenticated'], why: `ServiceAccount ${s.namespace}/${s.name} (${why})` });
      }
    }
  }
  return out;
}

/**
 * Who has administrative access: the two kubeadm admin identities, the set's
 * cluster-admin/admin subjects, any human (non-`system:`) user or group a rule
 * names (the policy cannot know they are not admins), and an admin known only
 * as an authenticated user (an OIDC group the policy has never heard of).
 */
export function adminIdentities(set: ManifestSet, policy: AuditPolicy): Identity[] {
  const ids: Identity[] = [
    { user: 'kubernetes-super-admin', groups: [MASTERS, 'system:authenticated'], why: `cluster admin in ${MASTERS} (kubeadm super-admin.conf)` },
    { user: 'kubernetes-admin', groups: [KUBEADM_ADMINS, 'system:authenticated'], why: `cluster admin in ${KUBEADM_ADMINS} (kubeadm admin.conf, bound to cluster-admin)` },
    { user: 'pci-harness:probe-oidc-admin', groups: ['system:authenticated'], why: 'an admin known only as authenticated (e.g. an OIDC group)' },
    ...setAdmins(set),
  ];
  for (const r of policy.rules) {
    for (const u of r.users) if (!u.startsWith('system:')) ids.push({ user: u, groups: ['system:authenticated'], why: `user ${u}, named by a rule` });
    for (const g of r.userGroups) if (!g.startsWith('system:')) ids.push({ user: 'pci-harness:probe-member', groups: [g, 'system:authenticated'], why: `member of ${g}, named by a rule` });
  }
  const seen = new Set<string>();
  return ids.filter((i) => {
    const k = `${i.user}|${i.groups.join(',')}`;
    return !seen.has(k) && Boolean(seen.add(k));
  });
}

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const NAMED = new Set(['get', 'update', 'patch', 'delete']);
const RESOURCES: Array<{ apiGroup: string; resource: string; subresource?: string; cluster?: boolean }> = [
  ...['pods', 'secrets', 'configmaps', 'services', 'endpoints', 'serviceaccounts', 'events', 'persistentvolumeclaims', 'resourcequotas', 'limitranges'].map((resource) => ({ apiGroup: '', resource })),
  ...['exec', 'attach', 'portforward', 'ephemeralcontainers', 'log', 'proxy', 'status', 'binding', 'eviction'].map((subresource) => ({ apiGroup: '', resource: 'pods', subresource })),
  { apiGroup: '', resource: 'serviceaccounts', subresource: 'token' },
  { apiGroup: '', resource: 'services', subresource: 'proxy' },
  ...['namespaces', 'nodes', 'persistentvolumes'].map((resource) => ({ apiGroup: '', resource, cluster: true })),
  { apiGroup: '', resource: 'nodes', subresource: 'proxy', cluster: true },
  { apiGroup: '', resource: 'namespaces', subresource: 'finalize', cluster: true },
  ...['deployments', 'replicasets', 'statefulsets', 'daemonsets'].map((resource) => ({ apiGroup: 'apps', resource })),
  { apiGroup: 'apps', resource: 'deployments', subresource: 'scale' },
  ...['jobs', 'cronjobs'].map((resource) => ({ apiGroup: 'batch', resource })),
  ...['roles', 'rolebindings'].map((resource) => ({ apiGroup: 'rbac.authorization.k8s.io', resource })),
  ...['clusterroles', 'clusterrolebindings'].map((resource) => ({ apiGroup: 'rbac.authorization.k8s.io', resource, cluster: true })),
  { apiGroup: 'coordination.k8s.io', resource: 'leases' },
  { apiGroup: 'discovery.k8s.io', resource: 'endpointslices' },
  { apiGroup: 'networking.k8s.io', resource: 'networkpolicies' },
  { apiGroup: 'events.k8s.io', resource: 'events' },
  { apiGroup: 'policy', resource: 'poddisruptionbudgets' },
  { apiGroup: 'kyverno.io', resource: 'policies' },
  { apiGroup: 'kyverno.io', resource: 'policyexceptions' },
  { apiGroup: 'kyverno.io', resource: 'clusterpolicies', cluster: true },
  ...['validatingwebhookconfigurations', 'mutatingwebhookconfigurations', 'validatingadmissionpolicies', 'validatingadmissionpolicybindings'].map((resource) => ({ apiGroup: 'admissionregistration.k8s.io', resource, cluster: true })),
  { apiGroup: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', cluster: true },
  { apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests', cluster: true },
  { apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: 'approval', cluster: true },
  { apiGroup: 'authentication.k8s.io', resource: 'tokenreviews', cluster: true },
  { apiGroup: 'authorization.k8s.io', resource: 'subjectaccessreviews', cluster: true },
  { apiGroup: 'storage.k8s.io', resource: 'storageclasses', cluster: true },
  { apiGroup: 'scheduling.k8s.io', resource: 'priorityclasses', cluster: true },
];
const NON_RESOURCE = ['/metrics', '/logs/', '/logs/kube-apiserver.log', '/api', '/apis', '/openapi/v2', '/openapi/v3', '/debug/pprof/'];
const PROBE_NS = ['pci-harness-probe-ns'];
const PROBE_NAME = 'pci-harness-probe';

/** Every request shape an admin can send that the policy might treat specially. */
function adminRequests(policy: AuditPolicy, scopeNamespaces: string[]): Array<Omit<AuditRequest, 'user' | 'groups'>> {
  // A namespace no rule lists behaves like any other unlisted one (rules compare namespaces literally):
  // one representative of those, plus every listed one, is exhaustive.
  const listed = policy.rules.flatMap((r) => r.namespaces).filter((n) => n !== '');
  const namespaces = [...new Set([...listed, ...[...PROBE_NS, ...scopeNamespaces].filter((n) => !listed.includes(n)).slice(0, 1)])];
  const names = [...new Set([PROBE_NAME, ...policy.rules.flatMap((r) => r.resources.flatMap((g) => g.resourceNames))])];
  const urls = [...new Set([...NON_RESOURCE, ...policy.rules.flatMap((r) => r.nonResourceURLs).filter((u) => u !== '*').map((u) => u.replace(/\*$/, '/x'))])];
  const out: Array<Omit<AuditRequest, 'user' | 'groups'>> = [];
  for (const r of RESOURCES) {
    const base = { apiGroup: r.apiGroup, resource: r.resource, ...(r.subresource ? { subresource: r.subresource } : {}) };
    for (const ns of r.cluster ? [undefined] : namespaces) {
      const where = ns === undefined ? {} : { namespace: ns };
      if (r.subresource) {
        // subresources are always on a named object; the verbs that reach them
        for (const verb of ['get', 'create', 'update', 'patch']) for (const name of names) out.push({ verb, ...base, ...where, name });
        continue;
      }
      for (const verb of VERBS) {
        if (NAMED.has(verb)) for (const name of names) out.push({ verb, ...base, ...where, name });
        else out.push({ verb, ...base, ...where });
      }
    }
    // list/watch across all namespaces
    if (!r.cluster && !r.subresource) for (const verb of ['list', 'watch']) out.push({ verb, ...base });
  }
  for (const u of urls) for (const verb of ['get', 'post', 'put', 'delete']) out.push({ verb, nonResourceURL: u });
  return out;
}

function producesEvent(omitStages: string[]): boolean {
  return !(omitStages.includes('RequestReceived') && omitStages.includes('ResponseComplete'));
}

interface TableCase {
  name: string;
  request: AuditRequest;
  expectLevel: string;
}

/** The table must say what happens to admins' and components' requests (half 1). */
function tableCoverage(set: ManifestSet, policyDoc: LoadedObject): CheckResult[] {
  const docs = specDocuments(set, 'AuditExpectations');
  if (docs.length === 0) return []; // auditLevels already fails for a missing table
  const cases: TableCase[] = docs.flatMap((d) => ((d.object.spec ?? {}) as Partial<AuditExpectationsSpec>).cases ?? []);
  const adminGroups = new Set([KUBEADM_ADMINS, ...setAdmins(set).flatMap((i) => i.groups.filter((g) => g !== 'system:authenticated' && !g.startsWith('system:serviceaccounts')))]);
  const logged = (c: TableCase) => c.expectLevel !== 'None';
  const need: Array<{ what: string; ok: boolean; hint: string }> = [
    { what: `a cluster admin in ${MASTERS}`, ok: cases.some((c) => logged(c) && (c.request.groups ?? []).includes(MASTERS)), hint: `e.g. user kubernetes-super-admin, groups [${MASTERS}, system:authenticated]` },
    {
      what: `a member of a group bound to cluster-admin (${[...adminGroups].join(', ')})`,
      ok: cases.some((c) => logged(c) && (c.request.groups ?? []).some((g) => adminGroups.has(g))),
      hint: `e.g. user kubernetes-admin, groups [${KUBEADM_ADMINS}, system:authenticated] (kind's admin.conf)`,
    },
    {
      what: 'a component identity (system:kube-controller-manager, system:kube-scheduler, system:serviceaccount:kube-system:*)',
      ok: cases.some((c) => logged(c) && isComponent(c.request.user)),
      hint: 'e.g. system:kube-controller-manager creating a ClusterRoleBinding, expected RequestResponse',
    },
  ];
  const anchor = docs[0]!;
  return need.map((n) =>
    n.ok
      ? at(anchor, { check: CHECK, requirement: REQ, status: 'pass', message: `the audit expectations cover ${n.what}, with a level other than None` }, ['spec', 'cases'])
      : at(anchor, { check: CHECK, requirement: REQ, status: 'fail', message: `the audit expectations have no logged case for ${n.what}: what the policy does with administrators' requests is unproven. Add one (${n.hint}) for ${policyDoc.source.file}` }, ['spec', 'cases']),
  );
}

/** audit.levels, requirement 10.2.1.2: no rule silences a class of administrators' requests. */
export function adminActions(set: ManifestSet, policyDoc: LoadedObject, scopeNamespaces: string[] = []): CheckResult[] {
  const policy = decodeAuditPolicy(policyDoc.object);
  // Identities the policy cannot tell apart (same users/userGroups verdict on every rule) are evaluated once.
  const classes = new Map<string, { rep: Identity; whys: string[] }>();
  const ids = adminIdentities(set, policy);
  for (const id of ids) {
    const sig = policy.rules.map((r) => Number((r.users.length === 0 || r.users.includes(id.user)) && (r.userGroups.length === 0 || id.groups.some((g) => r.userGroups.includes(g))))).join('');
    const c = classes.get(sig);
    if (c) c.whys.push(id.why);
    else classes.set(sig, { rep: id, whys: [id.why] });
  }
  const shapes = adminRequests(policy, scopeNamespaces);
  const byRule = new Map<number, { example: AuditRequest; why: string; reason: string; count: number; identities: Set<string> }>();
  // First match as evaluateAuditPolicy does it, with each rule's verdict computed once (≈10^4 requests).
  const silentBecause = (ruleIndex: number): string | undefined => {
    const r = policy.rules[ruleIndex];
    const level = r && (LEVELS as readonly string[]).includes(r.level) ? r.level : 'None';
    if (level === 'None') return 'level None';
    const omit = [...new Set([...policy.omitStages, ...(r?.omitStages ?? [])])];
    return producesEvent(omit) ? undefined : `omitStages [${omit.join(', ')}] leave no event for an ordinary request`;
  };
  const verdicts = new Map<number, string | undefined>();
  let tried = 0;
  for (const { rep: id, whys } of classes.values()) {
    for (const shape of shapes) {
      const req: AuditRequest = { user: id.user, groups: id.groups, ...shape };
      if (isHealth(req)) continue;
      tried++;
      const ruleIndex = policy.rules.findIndex((r) => ruleMatches(r, req));
      if (!verdicts.has(ruleIndex)) verdicts.set(ruleIndex, silentBecause(ruleIndex));
      const silent = verdicts.get(ruleIndex);
      if (!silent) continue;
      const d = { ruleIndex };
      const e = byRule.get(d.ruleIndex);
      if (e) {
        e.count++;
        for (const w of whys) e.identities.add(w);
      } else byRule.set(d.ruleIndex, { example: req, why: id.why, reason: silent, count: 1, identities: new Set(whys) });
    }
  }
  const out = tableCoverage(set, policyDoc);
  if (byRule.size === 0) {
    out.push(at(policyDoc, { check: CHECK, requirement: REQ, status: 'pass', message: `every administrative request tried is logged with an event (${tried} request shapes, ${classes.size} identity class(es) covering ${ids.length} privileged identities: ${ids.map((i) => i.why).join('; ')}); only /healthz, /livez, /readyz and /version may go unlogged` }));
    return out;
  }
  for (const [ruleIndex, e] of byRule) {
    const where = ruleIndex < 0 ? 'no rule matches them (default level None): add a catch-all `- level: Metadata` last' : `rule ${ruleIndex} (${policyDoc.source.file}:${policyDoc.lineOf(['rules', ruleIndex])}) matches them first`;
    out.push(at(policyDoc, {
      check: CHECK,
      requirement: REQ,
      status: 'fail',
      message: `administrators' actions are not logged: ${e.count} request shape(s) by ${[...e.identities].join('; ')} get ${e.reason}, e.g. ${describeRequest(e.example)}; ${where}. Narrow the rule to non-human component identities (users/userGroups of system components) and the verbs/resources it means, or drop it`,
    }, ruleIndex < 0 ? undefined : ['rules', ruleIndex]));
  }
  return out;
}
