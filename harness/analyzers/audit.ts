import type { Analyzer, CheckResult } from '../check/types.ts';
import type { LoadedObject, ManifestSet } from '../manifests/types.ts';
import { adminActions } from './audit/admin-actions.ts';
import { deadRules } from './audit/dead-rules.ts';
import { auditLevels } from './audit/levels.ts';
import { noSecretBodies } from './audit/secret-bodies.ts';
import { strictDecoding } from './audit/strict-check.ts';
import { auditWired } from './audit/wired.ts';
import { inScopeNamespaces } from './workloads.ts';

export { evaluateAuditPolicy, decodeAuditPolicy, type AuditDecision, type AuditPolicy, type AuditRequest } from './audit/policy.ts';

/** The audit Policy the apiserver loads: prefer control-plane/audit-policy.yaml when several exist. */
export function auditPolicyDocuments(set: ManifestSet): LoadedObject[] {
  const all = set.objects.filter((o) => o.object.apiVersion === 'audit.k8s.io/v1' && o.object.kind === 'Policy');
  return all.sort((a, b) => Number(b.source.file.endsWith('audit-policy.yaml')) - Number(a.source.file.endsWith('audit-policy.yaml')));
}

/**
 * Audit logging, offline: decode the Policy as the apiserver does (strict, then lenient),
 * evaluate it with upstream first-match semantics against the AuditExpectations and against
 * every request shape an administrator can send (10.2.1.2, audit/admin-actions.ts), look for
 * rules that leak credentials or can never match, and check the kind config wires it in.
 */
export const auditAnalyzer: Analyzer = {
  area: 'audit',
  title: 'Kubernetes audit policy and its wiring',
  run(set: ManifestSet): CheckResult[] {
    const policies = auditPolicyDocuments(set);
    const out: CheckResult[] = [];
    if (policies.length === 0) {
      for (const check of ['audit.levels', 'audit.no-secret-bodies', 'audit.strict-decoding', 'audit.dead-rules']) {
        out.push({ check, requirement: '10.2.1', status: 'fail', message: 'no audit.k8s.io/v1 Policy in the set: add manifests/control-plane/audit-policy.yaml' });
      }
    }
    for (const p of policies) {
      out.push(...strictDecoding(p), ...auditLevels(set, p), ...adminActions(set, p, inScopeNamespaces(set)), ...noSecretBodies(p), ...deadRules(p));
    }
    out.push(...auditWired(set));
    return out;
  },
};
