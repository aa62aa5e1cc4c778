import { relative } from 'node:path';
import type { Summary } from './summary.ts';

/**
 * SARIF 2.1.0 for GitHub code scanning: one rule per check id, one result per
 * failure, located at file and line relative to the repository root (the
 * current directory), so annotations land on the manifest line to fix.
 */
export function renderSarif(summary: Summary, meta: { manifestsDir: string; version: string; cwd?: string }): string {
  const cwd = meta.cwd ?? process.cwd();
  const failures = summary.requirements.flatMap((r) => r.results.filter((x) => x.status === 'fail'));
  const ruleIds = [...new Set(failures.map((f) => f.check))].sort();
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'pci-harness',
            version: meta.version,
            informationUri: 'https://www.pcisecuritystandards.org/',
            rules: ruleIds.map((id) => ({
              id,
              shortDescription: { text: id },
              properties: { requirements: [...new Set(failures.filter((f) => f.check === id).map((f) => f.requirement))] },
            })),
          },
        },
        results: failures.map((f) => ({
          ruleId: f.check,
          level: 'error',
          message: { text: `[PCI DSS v4.0 ${f.requirement}] ${f.object ? `${f.object}: ` : ''}${f.message}` },
          properties: { requirement: f.requirement },
          locations: f.file
            ? [
                {
                  physicalLocation: {
                    artifactLocation: { uri: relative(cwd, `${meta.manifestsDir}/${f.file}`).split('\\').join('/') },
                    region: { startLine: f.line ?? 1 },
                  },
                },
              ]
            : [],
        })),
      },
    ],
  };
  return JSON.stringify(sarif, null, 2);
}
