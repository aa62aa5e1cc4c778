import type { Summary } from './summary.ts';

/**
 * Stable machine format (documented in docs/report-formats.md). Bump
 * SCHEMA_VERSION on any incompatible change. Requirements are bare v4.0
 * numbers ("1.3.1").
 */
export const SCHEMA_VERSION = 1;

export function renderJson(summary: Summary, meta: { manifests: string; version: string }): string {
  return JSON.stringify(
    {
      schemaVersion: SCHEMA_VERSION,
      tool: 'pci-harness',
      version: meta.version,
      standard: 'PCI DSS v4.0',
      manifests: meta.manifests,
      summary: { passed: summary.passed, failed: summary.failed, skipped: summary.skipped },
      requirements: summary.requirements.map((r) => ({
        requirement: r.requirement,
        title: r.title,
        status: r.status,
        passed: r.passed,
        failed: r.failed,
        skipped: r.skipped,
        checks: r.checks,
      })),
      results: summary.requirements.flatMap((r) =>
        r.results.map((x) => ({
          check: x.check,
          requirement: x.requirement,
          status: x.status,
          message: x.message,
          object: x.object ?? null,
          file: x.file ?? null,
          line: x.line ?? null,
        })),
      ),
    },
    null,
    2,
  );
}
