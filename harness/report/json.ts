import { isLiveResult, liveFields } from './live.ts';
import type { Summary } from './summary.ts';

/**
 * Stable machine format (documented in docs/report-formats.md). Bump
 * SCHEMA_VERSION on any incompatible change. Requirements are bare v4.0
 * numbers ("1.3.1").
 *
 * 2: `inconclusive` status and counts (summary, requirements); every result
 *    has `lane` (`offline` | `live`); live results carry scenario, adversary,
 *    action, predicted, observed, layer, evidence, replay, finding, ms.
 */
export const SCHEMA_VERSION = 2;

export function renderJson(summary: Summary, meta: { manifests: string; version: string }): string {
  return JSON.stringify(
    {
      schemaVersion: SCHEMA_VERSION,
      tool: 'pci-harness',
      version: meta.version,
      standard: 'PCI DSS v4.0',
      manifests: meta.manifests,
      summary: { passed: summary.passed, failed: summary.failed, inconclusive: summary.inconclusive, skipped: summary.skipped },
      requirements: summary.requirements.map((r) => ({
        requirement: r.requirement,
        title: r.title,
        status: r.status,
        passed: r.passed,
        failed: r.failed,
        inconclusive: r.inconclusive,
        skipped: r.skipped,
        checks: r.checks,
      })),
      results: summary.requirements.flatMap((r) =>
        r.results.map((x) => ({
          check: x.check,
          requirement: x.requirement,
          status: x.status,
          lane: isLiveResult(x) ? 'live' : 'offline',
          message: x.message,
          object: x.object ?? null,
          file: x.file ?? null,
          line: x.line ?? null,
          ...(isLiveResult(x) ? liveFields(x) : {}),
        })),
      ),
    },
    null,
    2,
  );
}
