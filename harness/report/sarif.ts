import { relative } from 'node:path';
import { isLiveResult, liveFields, resultName, verdictLine } from './live.ts';
import type { Summary } from './summary.ts';

/**
 * SARIF 2.1.0 for GitHub code scanning: one rule per check id, one result per
 * failure (level `error`) or inconclusive live result (level `warning`: the
 * instrument broke, not a finding on the control), located at file and line
 * relative to the repository root (the current directory) when the result has
 * a file, so annotations land on the manifest line to fix. The property bag
 * carries the requirement, status and lane, and for live results adversary,
 * action, predicted, observed, layer, evidence, replay and finding.
 */
export function renderSarif(summary: Summary, meta: { manifestsDir: string; version: string; cwd?: string }): string {
  const cwd = meta.cwd ?? process.cwd();
  const findings = summary.requirements.flatMap((r) => r.results.filter((x) => x.status === 'fail' || x.status === 'inconclusive'));
  const ruleIds = [...new Set(findings.map((f) => f.check))].sort();
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
              properties: { requirements: [...new Set(findings.filter((f) => f.check === id).map((f) => f.requirement))] },
            })),
          },
        },
        results: findings.map((f) => {
          const live = isLiveResult(f);
          const subject = live ? resultName(f).slice(f.check.length + 1) : f.object;
          const text = `[PCI DSS v4.0 ${f.requirement}]${f.status === 'inconclusive' ? ' INCONCLUSIVE' : ''} ${subject ? `${subject}: ` : ''}${f.message}${live ? ` — ${verdictLine(f)}` : ''}`;
          return {
            ruleId: f.check,
            level: f.status === 'fail' ? 'error' : 'warning',
            message: { text },
            properties: { requirement: f.requirement, status: f.status, lane: live ? 'live' : 'offline', ...(live ? liveFields(f) : {}) },
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
          };
        }),
      },
    ],
  };
  return JSON.stringify(sarif, null, 2);
}
