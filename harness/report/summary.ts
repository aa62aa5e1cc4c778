import type { CheckResult, Status } from '../check/types.ts';
import { compareRequirements, requirementTitle } from '../pci/requirements.ts';

export interface RequirementSummary {
  requirement: string;
  title: string;
  /** fail if any result failed; pass if something passed and nothing failed; skip otherwise. */
  status: Status;
  passed: number;
  failed: number;
  skipped: number;
  checks: string[];
  results: CheckResult[];
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  requirements: RequirementSummary[];
}

export function summarize(results: CheckResult[], titles: Record<string, string> = {}): Summary {
  const byReq = new Map<string, CheckResult[]>();
  for (const r of results) {
    const list = byReq.get(r.requirement) ?? [];
    list.push(r);
    byReq.set(r.requirement, list);
  }
  const requirements = [...byReq.entries()]
    .sort(([a], [b]) => compareRequirements(a, b))
    .map(([requirement, rs]): RequirementSummary => {
      const passed = rs.filter((r) => r.status === 'pass').length;
      const failed = rs.filter((r) => r.status === 'fail').length;
      const skipped = rs.length - passed - failed;
      return {
        requirement,
        title: titles[requirement] ?? requirementTitle(requirement),
        status: failed ? 'fail' : passed ? 'pass' : 'skip',
        passed,
        failed,
        skipped,
        checks: [...new Set(rs.map((r) => r.check))].sort(),
        results: rs,
      };
    });
  const count = (s: Status) => results.filter((r) => r.status === s).length;
  return { passed: count('pass'), failed: count('fail'), skipped: count('skip'), requirements };
}
