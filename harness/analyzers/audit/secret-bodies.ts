import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject } from '../../manifests/types.ts';
import { decodeAuditPolicy, describeRequest, evaluateAuditPolicy, levelRank, type AuditRequest } from './policy.ts';

const CHECK = 'audit.no-secret-bodies';
const REQ = '8.3.2';
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const NAMED = new Set(['get', 'update', 'patch', 'delete']);
const PROBE_NS = 'pci-harness-probe-ns';
const PROBE_NAME = 'pci-harness-probe';

/**
 * Requests whose bodies carry credentials. The upstream docs and the GCE reference policy log
 * them at Metadata: Secret data (request bodies on create/update/patch, response bodies on
 * get/list/watch), TokenRequest responses (a bearer token) and TokenReview requests (the token).
 */
const SENSITIVE = [
  { apiGroup: '', resource: 'secrets', subresource: undefined as string | undefined, what: 'Secret values' },
  { apiGroup: '', resource: 'serviceaccounts', subresource: 'token', what: 'issued ServiceAccount tokens' },
  { apiGroup: 'authentication.k8s.io', resource: 'tokenreviews', subresource: undefined, what: 'bearer tokens under review' },
];

/** Every request shape worth trying: each verb × identity × namespace × name the policy mentions, plus generic ones. */
function probes(policyDoc: LoadedObject): AuditRequest[] {
  const p = decodeAuditPolicy(policyDoc.object);
  const users = new Set(p.rules.flatMap((r) => r.users));
  const groups = new Set(p.rules.flatMap((r) => r.userGroups));
  const namespaces = new Set([PROBE_NS, ...p.rules.flatMap((r) => r.namespaces).filter((n) => n !== '')]);
  const names = new Set([PROBE_NAME, ...p.rules.flatMap((r) => r.resources.flatMap((g) => g.resourceNames))]);
  const identities: Array<{ user?: string; groups?: string[] }> = [
    {},
    { user: 'pci-harness:probe-user', groups: ['system:authenticated'] },
    ...[...users].map((u) => ({ user: u, groups: [u === 'system:anonymous' ? 'system:unauthenticated' : 'system:authenticated'] })),
    ...[...groups].map((g) => ({ user: 'pci-harness:probe-member', groups: [g, 'system:authenticated'] })),
  ];
  const out: AuditRequest[] = [];
  for (const s of SENSITIVE) {
    for (const id of identities) {
      if (s.resource === 'tokenreviews') {
        out.push({ ...id, verb: 'create', apiGroup: s.apiGroup, resource: s.resource });
        continue;
      }
      for (const ns of namespaces) {
        if (s.subresource) {
          for (const name of names) out.push({ ...id, verb: 'create', apiGroup: s.apiGroup, resource: s.resource, subresource: s.subresource, namespace: ns, name });
          continue;
        }
        for (const verb of VERBS) {
          if (NAMED.has(verb)) for (const name of names) out.push({ ...id, verb, apiGroup: s.apiGroup, resource: s.resource, namespace: ns, name });
          else out.push({ ...id, verb, apiGroup: s.apiGroup, resource: s.resource, namespace: ns });
        }
      }
      // list/watch across all namespaces (namespace "")
      if (!s.subresource) for (const verb of ['list', 'watch']) out.push({ ...id, verb, apiGroup: s.apiGroup, resource: s.resource });
    }
  }
  return out;
}

/** audit.no-secret-bodies: no rule may log credential-bearing requests above Metadata, for any verb (defect 1). */
export function noSecretBodies(policyDoc: LoadedObject): CheckResult[] {
  const policy = decodeAuditPolicy(policyDoc.object);
  const byRule = new Map<number, { example: AuditRequest; level: string; count: number }>();
  const all = probes(policyDoc);
  for (const req of all) {
    const d = evaluateAuditPolicy(policy, req);
    if (levelRank(d.level) <= levelRank('Metadata')) continue;
    const e = byRule.get(d.ruleIndex);
    if (e) e.count++;
    else byRule.set(d.ruleIndex, { example: req, level: d.level, count: 1 });
  }
  if (byRule.size === 0) {
    return [at(policyDoc, { check: CHECK, requirement: REQ, status: 'pass', message: `Secrets, TokenRequests and TokenReviews are logged at Metadata or below for every verb, identity and namespace tried (${all.length} requests): no credential reaches the audit log` })];
  }
  return [...byRule.entries()].map(([ruleIndex, e]) => {
    const what = SENSITIVE.find((s) => s.resource === e.example.resource)?.what ?? 'credentials';
    return at(policyDoc, {
      check: CHECK,
      requirement: REQ,
      status: 'fail',
      message: `rule ${ruleIndex} logs ${what} at ${e.level} (${e.count} request shapes, e.g. ${describeRequest(e.example)}): request/response bodies would write them into the audit log. Add a Metadata rule for secrets, serviceaccounts/token and tokenreviews before it`,
    }, ['rules', ruleIndex]);
  });
}
