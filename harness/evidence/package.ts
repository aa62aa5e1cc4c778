import { join } from 'node:path';
import { renderHtml } from '../report/html.ts';
import { renderOscal } from '../report/oscal.ts';
import type { RunReport } from '../report/run-report.ts';
import { redactTree, redactValue, writeChecksums, writeEvidence } from './bundle.ts';
import { fileDigests } from './digest.ts';
import { RUN_CONTEXT_FILE } from './read-package.ts';

/**
 * Close an evidence package: the reports rendered from the whole run
 * (report.html, run.json), then every text file redacted, then the OSCAL
 * assessment results (which carry the SHA-256 of every file before them),
 * then SHA256SUMS.
 * The renderers get the run already redacted, so a credential never reaches
 * them, and the tree is redacted again after, whatever else wrote into it.
 */
export const PACKAGE_FILES = {
  html: 'report.html',
  oscal: 'assessment-results.json',
  context: RUN_CONTEXT_FILE,
  checksums: 'SHA256SUMS',
} as const;

export interface FinishedPackage {
  /** Files the redaction pass changed (relative). */
  redacted: string[];
}

export function finishPackage(out: string, run: RunReport): FinishedPackage {
  const report = redactValue(run);
  writeEvidence(join(out, PACKAGE_FILES.context), `${JSON.stringify(report.context, null, 2)}\n`);
  writeEvidence(join(out, PACKAGE_FILES.html), renderHtml(report));
  const redacted = redactTree(out);
  const files = fileDigests(out, [PACKAGE_FILES.oscal, PACKAGE_FILES.checksums]);
  writeEvidence(join(out, PACKAGE_FILES.oscal), renderOscal(report, files));
  writeChecksums(out);
  return { redacted };
}
