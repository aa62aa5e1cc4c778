import type { KeyObject } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHtml } from '../report/html.ts';
import { renderOscal } from '../report/oscal.ts';
import { resultSummary, type RunReport } from '../report/run-report.ts';
import { ATTESTATION_FILE, keyId, signStatement, statementFor } from './attest.ts';
import { redactTree, redactValue, writeChecksums, writeEvidence } from './bundle.ts';
import { fileDigests } from './digest.ts';
import { RUN_CONTEXT_FILE } from './read-package.ts';

/**
 * Close an evidence package: the reports rendered from the whole run
 * (report.html, run.json), then every text file redacted, then the OSCAL
 * assessment results (which carry the SHA-256 of every file before them),
 * then SHA256SUMS, then — with a signing key — the signed attestation over
 * every file (harness/evidence/attest.ts).
 * The renderers get the run already redacted, so a credential never reaches
 * them, and the tree is redacted again after, whatever else wrote into it.
 */
export const PACKAGE_FILES = {
  html: 'report.html',
  oscal: 'assessment-results.json',
  context: RUN_CONTEXT_FILE,
  checksums: 'SHA256SUMS',
  attestation: ATTESTATION_FILE,
} as const;

export interface FinishedPackage {
  /** Files the redaction pass changed (relative). */
  redacted: string[];
  /** Key id of the signature, when the package was signed. */
  signedBy?: string;
}

export function finishPackage(out: string, run: RunReport, opts: { signingKey?: KeyObject } = {}): FinishedPackage {
  const report = redactValue(run);
  // A reused --out: an earlier run's attestation must neither be hashed nor survive unsigned-over.
  rmSync(join(out, ATTESTATION_FILE), { force: true });
  writeEvidence(join(out, PACKAGE_FILES.context), `${JSON.stringify(report.context, null, 2)}\n`);
  writeEvidence(join(out, PACKAGE_FILES.html), renderHtml(report));
  const redacted = redactTree(out);
  const files = fileDigests(out, [PACKAGE_FILES.oscal, PACKAGE_FILES.checksums]);
  writeEvidence(join(out, PACKAGE_FILES.oscal), renderOscal(report, files));
  writeChecksums(out);
  if (!opts.signingKey) return { redacted };
  // Last: the statement covers every file written before it, SHA256SUMS and the OSCAL document included.
  const envelope = signStatement(statementFor(out, resultSummary(report)), opts.signingKey);
  writeFileSync(join(out, ATTESTATION_FILE), `${JSON.stringify(envelope, null, 2)}\n`);
  return { redacted, signedBy: keyId(opts.signingKey) };
}
