import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject } from '../../manifests/types.ts';
import { decodeAuditPolicy, type AuditRule } from './policy.ts';

const CHECK = 'audit.dead-rules';

/**
 * Verbs an audit event can carry: the request verbs of resource requests
 * (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go) and lowercased HTTP methods of
 * non-resource requests. `*`, bind, escalate, impersonate, use, approve… are authorization
 * checks or wildcards, never the verb of a request, and audit matching is literal.
 */
const REQUEST_VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'post', 'put', 'head', 'options']);
const STREAMING = ['exec', 'attach', 'portforward'];
const AUTH_FAILURE_IDENTITIES = ['system:anonymous', 'system:unauthenticated'];

function coversStreaming(r: AuditRule): string[] {
  const out = new Set<string>();
  for (const gr of r.resources) {
    if (gr.group !== '') continue;
    for (const res of gr.resources) {
      for (const s of STREAMING) if (res === `pods/${s}` || res === `*/${s}` || res === 'pods/*') out.add(s);
    }
  }
  return [...out];
}

function requirementFor(r: AuditRule): string {
  return [...r.users, ...r.userGroups].some((u) => AUTH_FAILURE_IDENTITIES.includes(u)) ? '10.2.1.4' : '10.2.1';
}

/** audit.dead-rules: rules (or parts of rules) that can never match what they appear to log (defects 2 and 4). */
export function deadRules(policyDoc: LoadedObject): CheckResult[] {
  const policy = decodeAuditPolicy(policyDoc.object);
  const out: CheckResult[] = [];
  policy.rules.forEach((r, i) => {
    const dead = r.verbs.filter((v) => !REQUEST_VERBS.has(v));
    if (dead.length > 0) {
      const allDead = dead.length === r.verbs.length;
      out.push(at(policyDoc, {
        check: CHECK,
        requirement: requirementFor(r),
        status: 'fail',
        message: allDead
          ? `rule ${i} matches NO request: audit verbs are compared literally and ${dead.map((v) => `"${v}"`).join(', ')} ${dead.length > 1 ? 'are' : 'is'} never a request verb. Drop "verbs" to match every verb`
          : `rule ${i} lists ${dead.map((v) => `"${v}"`).join(', ')}, which ${dead.length > 1 ? 'are' : 'is'} never a request verb (authorization checks/wildcards): ${dead.length > 1 ? 'they do' : 'it does'} nothing; remove ${dead.length > 1 ? 'them' : 'it'}`,
      }, ['rules', i, 'verbs']));
    }
    const streaming = coversStreaming(r);
    if (streaming.length > 0 && r.verbs.length > 0 && !(r.verbs.includes('get') && r.verbs.includes('create'))) {
      out.push(at(policyDoc, {
        check: CHECK,
        requirement: '10.2.1.2',
        status: 'fail',
        message: `rule ${i} logs pods/${streaming.join(', pods/')} only for verbs ${JSON.stringify(r.verbs)}: kubectl ≥1.30 streams over WebSocket (audit verb "get"), SPDY uses "create". Drop "verbs" on this rule`,
      }, ['rules', i, 'verbs']));
    }
  });
  if (out.length === 0) {
    out.push(at(policyDoc, { check: CHECK, requirement: '10.2.1', status: 'pass', message: `all ${policy.rules.length} rules use real request verbs; exec/attach/portforward rules match both WebSocket (get) and SPDY (create)` }));
  }
  return out;
}
