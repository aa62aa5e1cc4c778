import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject, ManifestSet } from '../../manifests/types.ts';
import type { AuditExpectationsSpec } from '../../spec/types.ts';
import { specDocuments } from '../rbac/scope.ts';
import { decodeAuditPolicy, describeRequest, evaluateAuditPolicy } from './policy.ts';

const CHECK = 'audit.levels';

/** audit.levels: every AuditExpectations case gets exactly its level, and keeps the stages it needs. */
export function auditLevels(set: ManifestSet, policyDoc: LoadedObject): CheckResult[] {
  const out: CheckResult[] = [];
  const policy = decodeAuditPolicy(policyDoc.object);
  const docs = specDocuments(set, 'AuditExpectations');
  if (docs.length === 0) {
    return [{ check: CHECK, requirement: '10.2.1', status: 'fail', message: 'no AuditExpectations in the set: the audit policy cannot be proven to log anything; add manifests/spec/audit-expectations.yaml' }];
  }
  for (const doc of docs) {
    const cases = ((doc.object.spec ?? {}) as Partial<AuditExpectationsSpec>).cases ?? [];
    for (const c of cases) {
      const d = evaluateAuditPolicy(policy, c.request);
      const ruleText = d.ruleIndex < 0 ? 'no rule matched (default level None)' : `rule ${d.ruleIndex} (${policyDoc.source.file}:${policyDoc.lineOf(['rules', d.ruleIndex])}) matched first`;
      const path = d.ruleIndex < 0 ? undefined : ['rules', d.ruleIndex];
      const lostStages = (c.expectStages ?? []).filter((s) => d.omitStages.includes(s));
      const req = c.requirement || '10.2.1';
      if (d.level !== c.expectLevel) {
        out.push(at(policyDoc, { check: CHECK, requirement: req, status: 'fail', message: `case "${c.name}": ${describeRequest(c.request)} is logged at ${d.level}, expected ${c.expectLevel}; ${ruleText}. Fix the rule order or the rule's match fields` }, path));
      } else if (lostStages.length > 0) {
        out.push(at(policyDoc, { check: CHECK, requirement: req, status: 'fail', message: `case "${c.name}": level ${d.level} is right but stage(s) ${lostStages.join(', ')} are omitted; ${ruleText}` }, path));
      } else {
        out.push(at(policyDoc, { check: CHECK, requirement: req, status: 'pass', message: `case "${c.name}": ${describeRequest(c.request)} → ${d.level}; ${ruleText}` }, path));
      }
    }
  }
  return out;
}
