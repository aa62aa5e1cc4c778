import type { CheckResult } from '../check/types.ts';
import { isLiveResult, type DecidingLayer, type LiveResult } from '../scenario/result.ts';
import { combinedStatus, type RequirementSummary, type Summary } from './summary.ts';

/**
 * What every reporter shows of a live result beyond the CheckResult fields
 * (harness/scenario/result.ts). One place, so text, JUnit, SARIF and the
 * evidence summary word it the same.
 */

export { isLiveResult };

/** `networkpolicy-ingress cde-storage/datastore-ingress, ...` */
export function layerText(layer: DecidingLayer | undefined): string {
  if (!layer) return 'unknown';
  return layer.names?.length ? `${layer.kind} ${layer.names.join(', ')}` : layer.kind;
}

/** `predicted blocked, observed allowed (layer networkpolicy-ingress cde-storage/datastore-ingress)` */
export function verdictLine(r: LiveResult): string {
  return `predicted ${r.predicted}, observed ${r.observed} (layer ${layerText(r.layer)})`;
}

/**
 * Stable display / test-case name of a result: `<check> <object>` offline;
 * live results add scenario, adversary and action so every matrix cell has
 * its own name across runs.
 */
export function resultName(r: CheckResult): string {
  if (!isLiveResult(r)) return `${r.check}${r.object ? ` ${r.object}` : ''}`;
  const what = [r.scenario, r.object].filter(Boolean).join(' ');
  return `${r.check}${what ? ` ${what}` : ''}: ${r.adversary} → ${r.action}`;
}

/**
 * The live detail block as lines (no indentation): verdict, finding, evidence,
 * replay; `who` adds `adversary: action` first (where the name is not shown
 * next to it). Evidence may span lines.
 */
export function liveDetailLines(r: LiveResult, opts: { evidenceChars?: number; who?: boolean } = {}): string[] {
  const lines = [...(opts.who ? [`adversary: ${r.adversary}`, `action: ${r.action}`] : []), verdictLine(r)];
  if (r.finding) lines.push(`finding: ${r.finding}`);
  if (r.evidence) {
    const max = opts.evidenceChars ?? Infinity;
    const ev = r.evidence.length > max ? `${r.evidence.slice(0, max)}… (${r.evidence.length} chars, full text in live.json)` : r.evidence;
    lines.push(`evidence: ${ev}`);
  }
  if (r.replay) lines.push(`replay: ${r.replay}`);
  return lines;
}

/** Live-only fields for machine formats (JSON results, SARIF property bags). */
export function liveFields(r: LiveResult): Record<string, unknown> {
  return {
    scenario: r.scenario,
    adversary: r.adversary,
    action: r.action,
    predicted: r.predicted,
    observed: r.observed,
    layer: { kind: r.layer?.kind ?? null, names: r.layer?.names ?? [] },
    evidence: r.evidence ?? '',
    replay: r.replay ?? '',
    finding: r.finding ?? null,
    ms: r.ms ?? null,
    narrative: r.narrative ?? null,
  };
}

/** Check id of one reachability-matrix cell (harness/scenario/checks.ts). */
export const MATRIX_CHECK = 'live.network.matrix';

export interface LiveTally {
  results: number;
  passed: number;
  failed: number;
  inconclusive: number;
  skipped: number;
  /** Results that are one cell of the reachability matrix. */
  matrixCells: number;
  /** `predicted→observed` pairs with their counts, e.g. `blocked→blocked: 40`. */
  verdicts: Record<string, number>;
}

export function liveTally(results: readonly CheckResult[]): LiveTally {
  const live = results.filter(isLiveResult);
  const verdicts: Record<string, number> = {};
  for (const r of live) {
    const k = `${r.predicted}→${r.observed}`;
    verdicts[k] = (verdicts[k] ?? 0) + 1;
  }
  return {
    results: live.length,
    passed: live.filter((r) => r.status === 'pass').length,
    failed: live.filter((r) => r.status === 'fail').length,
    inconclusive: live.filter((r) => r.status === 'inconclusive').length,
    skipped: live.filter((r) => r.status === 'skip').length,
    matrixCells: live.filter((r) => r.check === MATRIX_CHECK).length,
    verdicts: Object.fromEntries(Object.entries(verdicts).sort(([a], [b]) => a.localeCompare(b))),
  };
}

const MD_STATUS = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', skip: 'SKIP' } as const;

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/**
 * Markdown for summary.md: one row per requirement with live results
 * (status, counts, matrix cells, predicted→observed tally), then every
 * non-passing live result with its verdict, finding and replay command.
 */
export function renderLiveMarkdown(summary: Summary): string {
  const reqs = summary.requirements.filter((r) => r.results.some(isLiveResult));
  if (reqs.length === 0) return 'No live result was recorded.';
  const total = liveTally(reqs.flatMap((r) => r.results));
  const lines = [
    `${total.results} live results: ${total.passed} passed, ${total.failed} failed, ${total.inconclusive} inconclusive, ${total.skipped} skipped; ${total.matrixCells} reachability-matrix cells.`,
    '',
    '| requirement | status | pass | fail | inconclusive | skip | matrix cells | predicted→observed | checks |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of reqs) lines.push(requirementRow(r));
  const notPassed = reqs.flatMap((r) => r.results.filter(isLiveResult).filter((x) => x.status === 'fail' || x.status === 'inconclusive'));
  if (notPassed.length) {
    lines.push('', '### Live findings and inconclusive results', '');
    for (const x of notPassed) {
      lines.push(`- **${MD_STATUS[x.status]}** [${x.requirement}] ${mdCell(resultName(x))} — ${mdCell(x.message)}`);
      for (const l of liveDetailLines(x, { evidenceChars: 400 })) lines.push(`  - ${l.startsWith('replay: ') ? `replay: \`${l.slice(8)}\`` : mdCell(l)}`);
    }
  }
  return lines.join('\n');
}

function requirementRow(r: RequirementSummary): string {
  const live = r.results.filter(isLiveResult);
  const t = liveTally(live);
  const status = combinedStatus(live);
  const verdicts = Object.entries(t.verdicts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const checks = [...new Set(live.map((x) => x.check))].sort().join(', ');
  return `| ${r.requirement} ${mdCell(r.title)} | ${MD_STATUS[status]} | ${t.passed} | ${t.failed} | ${t.inconclusive} | ${t.skipped} | ${t.matrixCells} | ${verdicts} | ${checks} |`;
}
