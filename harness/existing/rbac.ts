import { effectivePermissions } from '../analyzers/rbac/effective.ts';
import { accessTables, cdeNamespaces } from '../analyzers/rbac/scope.ts';
import { subjectLabel, type Subject } from '../analyzers/rbac/types.ts';
import type { Cluster } from '../cluster/provider.ts';
import { redactCredentials } from '../evidence/bundle.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { compareRules, describeMismatch, identityOf, predictAllows, type Identity, type RulesReviewStatus } from '../scenario/rbac-live.ts';
import type { LiveResult } from '../scenario/result.ts';
import { inPool } from '../scenario/pool.ts';

/**
 * The set's declared access (manifests/spec/access.yaml), asked of a cluster
 * the harness did not create, without writing anything: the API server's
 * access reviews are answers, never stored objects.
 *   SubjectAccessReview   per access-table subject and namespace: every
 *                         declared grant is allowed, reading Secrets and
 *                         exec into pods are allowed only where the offline
 *                         model (rbac.least-privilege) grants them. Needs only
 *                         `create subjectaccessreviews`.
 *   SelfSubjectRulesReview under impersonation, per subject and namespace:
 *                         the whole rule set equals the prediction (as
 *                         suites/live/scenarios/insider-rbac.test.ts). Needs
 *                         `impersonate`; where the kubeconfig's identity lacks
 *                         it, the review is NOT TESTED with that reason.
 */
export const SCENARIO = 'existing.rbac';

interface Probe {
  subject: Subject;
  id: Identity;
  namespace: string;
  req: { verb: string; apiGroup: string; resource: string; subresource?: string; name?: string };
}

/** The SubjectAccessReview body for `id` asking `req` in `namespace`. */
export function subjectAccessReview(id: Identity, namespace: string, req: Probe['req']): Record<string, unknown> {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: id.user,
      groups: id.groups,
      resourceAttributes: { namespace, verb: req.verb, group: req.apiGroup, resource: req.resource, ...(req.subresource ? { subresource: req.subresource } : {}), ...(req.name ? { name: req.name } : {}) },
    },
  };
}

export async function accessReviews(cluster: Cluster, set: ManifestSet, replayPrefix: string): Promise<LiveResult[]> {
  const eff = effectivePermissions(set);
  const entries = accessTables(set).flatMap((t) => t.spec.subjects ?? []);
  const cde = [...cdeNamespaces(set)].sort();
  const probes: Probe[] = [];
  for (const e of entries) {
    const subject = e.subject as Subject;
    const id = identityOf(subject, `pci-existing-${subject.name}`);
    for (const a of e.allow ?? []) {
      for (const verb of a.verbs) {
        for (const name of a.resourceNames?.length ? a.resourceNames : [undefined]) {
          const [resource, subresource] = a.resource.split('/') as [string, string | undefined];
          probes.push({ subject, id, namespace: a.namespace ?? '', req: { verb, apiGroup: a.apiGroup ?? '', resource, ...(subresource ? { subresource } : {}), ...(name ? { name } : {}) } });
        }
      }
    }
    for (const ns of cde) {
      probes.push({ subject, id, namespace: ns, req: { verb: 'list', apiGroup: '', resource: 'secrets' } });
      probes.push({ subject, id, namespace: ns, req: { verb: 'create', apiGroup: '', resource: 'pods', subresource: 'exec' } });
    }
  }
  const sar = await inPool(probes, 6, async (p): Promise<LiveResult> => {
    const resource = p.req.subresource ? `${p.req.resource}/${p.req.subresource}` : p.req.resource;
    const grantedBy = predictAllows(eff, p.id, p.namespace, { verb: p.req.verb, apiGroup: p.req.apiGroup, resource, ...(p.req.name ? { name: p.req.name } : {}) });
    const predicted = grantedBy ? 'permitted' : 'forbidden';
    const body = JSON.stringify(subjectAccessReview(p.id, p.namespace, p.req));
    const what = `${p.req.verb} ${resource}${p.req.apiGroup ? `.${p.req.apiGroup}` : ''}${p.req.name ? `/${p.req.name}` : ''} in ${p.namespace}`;
    const base = {
      lane: 'live' as const,
      check: 'live.rbac.prediction' as const,
      requirement: p.req.resource === 'secrets' || p.req.subresource ? '7.2.2' : '7.2.1',
      scenario: `${SCENARIO}.subject-access-review`,
      adversary: `${subjectLabel(p.subject)} (asked by SubjectAccessReview, user ${p.id.user})`,
      action: `may ${what}?`,
      predicted: predicted as 'permitted' | 'forbidden',
      layer: { kind: 'rbac' as const, names: [grantedBy ?? 'no grant of the set'] },
      replay: `echo '${body}' | ${replayPrefix} create --raw /apis/authorization.k8s.io/v1/subjectaccessreviews -f -`,
    };
    // --raw: one POST, no client-side schema validation (which lists CRDs first and doubles the calls).
    const r = await cluster.kubectl(['create', '--raw', '/apis/authorization.k8s.io/v1/subjectaccessreviews', '-f', '-'], { input: body, reject: false, timeoutMs: 30_000 });
    if (r.exitCode !== 0) {
      const msg = redactCredentials(r.stderr.trim()).slice(0, 400);
      if (/forbidden/i.test(msg)) return { ...base, status: 'skip', observed: 'check-failed', message: `NOT TESTED — this kubeconfig may not create SubjectAccessReviews: ${msg}`, evidence: msg };
      return { ...base, status: 'inconclusive', observed: 'check-failed', message: `instrument failed: ${msg}`, evidence: msg };
    }
    const status = (JSON.parse(r.stdout) as { status?: { allowed?: boolean; reason?: string } }).status ?? {};
    const observed = status.allowed ? 'permitted' : 'forbidden';
    const ok = observed === predicted;
    const message = `${subjectLabel(p.subject)} ${what}: predicted ${predicted}${grantedBy ? ` (${grantedBy})` : ''}, observed ${observed}${status.reason ? ` (${status.reason})` : ''}`;
    return { ...base, status: ok ? 'pass' : 'fail', observed, message, evidence: JSON.stringify(status), ...(ok ? {} : { finding: `PREDICTION MISMATCH: ${message}` }) };
  });

  const rulesProbes = entries.flatMap((e) => [...new Set([...(e.allow ?? []).map((a) => a.namespace ?? ''), ...cde])].filter(Boolean).map((ns) => ({ subject: e.subject as Subject, ns })));
  const ssrr = await inPool(rulesProbes, 6, async ({ subject, ns }): Promise<LiveResult> => {
    const id = identityOf(subject, `pci-existing-${subject.name}`);
    const body = JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: ns } });
    const base = {
      lane: 'live' as const,
      check: 'live.rbac.prediction' as const,
      requirement: '7.2.2',
      scenario: `${SCENARIO}.rules-review`,
      adversary: `${subjectLabel(subject)} (impersonated as user ${id.user})`,
      action: `SelfSubjectRulesReview in ${ns}`,
      predicted: 'permitted' as const,
      layer: { kind: 'rbac' as const, names: ['effectivePermissions(the set) + bootstrap system:* bindings'] },
      replay: `echo '${body}' | ${replayPrefix} create --raw /apis/authorization.k8s.io/v1/selfsubjectrulesreviews -f - ${id.args.join(' ')}`,
    };
    const r = await cluster.kubectl(['create', '--raw', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', '-f', '-', ...id.args], { input: body, reject: false, timeoutMs: 30_000 });
    if (r.exitCode !== 0) {
      const msg = redactCredentials(r.stderr.trim()).slice(0, 400);
      if (/cannot impersonate|forbidden/i.test(msg)) return { ...base, status: 'skip', observed: 'check-failed', message: `NOT TESTED — this kubeconfig may not impersonate ${id.user}: ${msg}`, evidence: msg };
      return { ...base, status: 'inconclusive', observed: 'check-failed', message: `instrument failed: ${msg}`, evidence: msg };
    }
    const status = (JSON.parse(r.stdout) as { status?: RulesReviewStatus }).status;
    if (!status || status.incomplete) return { ...base, status: 'inconclusive', observed: 'check-failed', message: `the review is incomplete${status?.evaluationError ? `: ${status.evaluationError}` : ''}`, evidence: JSON.stringify(status ?? {}).slice(0, 600) };
    const c = compareRules(eff, id, ns, status);
    return {
      ...base,
      status: c.equal ? 'pass' : 'fail',
      observed: c.equal || c.extra.length ? 'permitted' : 'forbidden',
      message: c.equal ? `${subjectLabel(subject)}: ${c.counts.observed} live permissions in ${ns} = the ${c.counts.predicted} predicted` : describeMismatch(c),
      evidence: `predicted ${c.counts.predicted} atoms, observed ${c.counts.observed}; extra: [${c.extra.join('; ')}]; missing: [${c.missing.join('; ')}]`,
      ...(c.equal ? {} : { finding: describeMismatch(c) }),
    };
  });
  return [...sar, ...ssrr];
}
