import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject } from '../../manifests/types.ts';
import { strictPolicyIssues } from './strict.ts';

/** audit.strict-decoding: the Policy decodes strictly and validates (defect 3: rule-level resourceNames is dropped). */
export function strictDecoding(policyDoc: LoadedObject): CheckResult[] {
  const issues = strictPolicyIssues(policyDoc.object as Record<string, unknown>);
  if (issues.length === 0) {
    return [at(policyDoc, { check: 'audit.strict-decoding', requirement: '10.2.1', status: 'pass', message: 'the audit Policy decodes strictly against audit.k8s.io/v1 and passes upstream validation: every field takes effect' })];
  }
  return issues.map((i) =>
    at(policyDoc, {
      check: 'audit.strict-decoding',
      requirement: '10.2.1',
      status: 'fail',
      message: `${i.message}${i.lenient ? '. Move the field where the schema expects it (resourceNames belongs inside resources[])' : ''}`,
    }, i.path),
  );
}
