import type { CheckResult, Status } from '../check/types.ts';
import { compareRequirements, requirementTitle } from '../pci/requirements.ts';

export interface RequirementSummary {
  requirement: string;
  title: string;
  /**
   * fail if any result failed; else inconclusive if any result is
   * inconclusive (a live probe broke or enforcement is unproven: never a
   * pass); else pass if something passed; skip otherwise.
   */
  status: Status;
  passed: number;
  failed: number;
  inconclusive: number;
  skipped: number;
  checks: string[];
  results: CheckResult[];
}

export interface Summary {
  passed: number;
  failed: number;
  inconclusive: number;
  skipped: number;
  requirements: RequirementSummary[];
}

/** The verdict of a group of results (a requirement, a run): fail > inconclusive > pass > skip. */
export function combinedStatus(results: readonly CheckResult[]): Status {
  if (results.some((r) => r.status === 'fail')) return 'fail';
  if (results.some((r) => r.status === 'inconclusive')) return 'inconclusive';
  if (results.some((r) => r.status === 'pass')) return 'pass';
  return 'skip';
}

/**
 * Group results by requirement. Offline `CheckResult`s and live `LiveResult`s
 * (harness/scenario/result.ts) go through the same code: a live result is a
 * CheckResult with more fields.
 */
export function summarize(results: readonly CheckResult[], titles: Record<string, string> = {}): Summary {
  const byReq = new Map<string, CheckResult[]>();
  for (const r of results) {
    const list = byReq.get(r.requirement) ?? [];
    list.push(r);
    byReq.set(r.requirement, list);
  }
  const count = (rs: readonly CheckResult[], s: Status) => rs.filter((r) => r.status === s).length;
  const requirements = [...byReq.entries()]
    .sort(([a], [b]) => compareRequirements(a, b))
    .map(
      ([requirement, rs]): RequirementSummary => ({
        requirement,
        title: titles[requirement] ?? requirementTitle(requirement),
        status: combinedStatus(rs),
        passed: count(rs, 'pass'),
        failed: count(rs, 'fail'),
        inconclusive: count(rs, 'inconclusive'),
        skipped: count(rs, 'skip'),
        checks: [...new Set(rs.map((r) => r.check))].sort(),
        results: rs,
      }),
    );
  return {
    passed: count(results, 'pass'),
    failed: count(results, 'fail'),
    inconclusive: count(results, 'inconclusive'),
    skipped: count(results, 'skip'),
    requirements,
  };
}
