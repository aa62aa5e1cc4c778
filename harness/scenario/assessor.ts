import type { DecidingLayer, LiveResult, LiveVerdict } from './result.ts';
import { redactCredentials } from '../evidence/bundle.ts';

/**
 * The assessor's view: the guide's verification table and its pre-assessment
 * failure checks, corrected (../shared/reference/guide-defects.md), each as a
 * named check whose evidence is what a QSA asks to see — the command that
 * was run, its output (redacted, trimmed) and the verdict with its reason.
 * A row the harness cannot prove on this cluster says so (`skip`, with why);
 * it is never shown as a pass.
 */
export interface AssessorEvidence {
  /** Each command exactly as run (kubectl against the cluster's admin kubeconfig, unless it says otherwise). */
  commands: string[];
  output: string;
  verdict: 'pass' | 'fail' | 'not-tested';
  /** Why: what the output shows, or why the row cannot be proven here. */
  reason: string;
}

export interface AssessorRow {
  id: string;
  /** The guide's row or check, as printed there. */
  guide: string;
  requirement: string;
  control: string;
  /** What the guide got wrong about it, when it did (defect numbers). */
  correction?: string;
  layer: DecidingLayer['kind'];
  /** The verdict when the control holds, and when it does not (e.g. blocked/allowed, rejected/admitted). */
  verdicts: [Exclude<LiveVerdict, 'check-failed'>, Exclude<LiveVerdict, 'check-failed'>];
  run(): Promise<AssessorEvidence>;
}

const OUTPUT_LIMIT = 1500;

export function assessorResult(row: AssessorRow, e: AssessorEvidence, replayKubectl: string): LiveResult {
  const status = e.verdict === 'not-tested' ? 'skip' : e.verdict;
  return {
    lane: 'live',
    check: 'live.assessor',
    requirement: row.requirement,
    status,
    scenario: `assessor.${row.id}`,
    adversary: 'a QSA verifying the control on assessment day',
    action: `${row.guide} → ${row.control}`,
    predicted: row.verdicts[0],
    observed: e.verdict === 'fail' ? row.verdicts[1] : row.verdicts[0],
    layer: { kind: row.layer, names: [row.control] },
    message: `${row.requirement} ${row.control}: ${e.verdict === 'not-tested' ? 'NOT TESTED' : e.verdict.toUpperCase()} — ${e.reason}${row.correction ? ` (corrected from the guide: ${row.correction})` : ''}`,
    evidence: redactCredentials(`$ ${e.commands.join('\n$ ')}\n${e.output.length > OUTPUT_LIMIT ? `${e.output.slice(0, OUTPUT_LIMIT)}\n… (${e.output.length - OUTPUT_LIMIT} more characters)` : e.output}`),
    replay: e.commands.map((c) => c.replace(/^kubectl /, `${replayKubectl} `)).join('\n'),
    ...(e.verdict === 'fail' ? { finding: `${row.requirement}: the assessor's check fails — ${e.reason}` } : {}),
  };
}
