import type { CheckResult, Status } from '../check/types.ts';
import { isLiveResult, liveDetailLines, resultName, verdictLine } from './live.ts';
import type { Summary } from './summary.ts';

const MARK: Record<Status, string> = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', inconclusive: 'INCONCLUSIVE' };

function location(r: CheckResult): string {
  return r.file ? `${r.file}${r.line ? `:${r.line}` : ''}` : '';
}

const INDENT = '       ';

/**
 * The per-requirement table a person reads first, then every failure with
 * where to fix it (a live failure: who attacked, predicted vs observed, the
 * deciding layer and the command that replays it), then inconclusive results,
 * then skips. Offline and live results go through the same code; the
 * inconclusive column and count appear only when something is inconclusive.
 */
export function renderText(summary: Summary, opts: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  const withInc = summary.inconclusive > 0;
  const reqWidth = Math.max(11, ...summary.requirements.map((r) => r.requirement.length));
  const statusWidth = withInc ? MARK.inconclusive.length : 6;
  lines.push(`${'requirement'.padEnd(reqWidth)}  ${'status'.padEnd(statusWidth)}  pass  fail  ${withInc ? 'inc  ' : ''}skip  title`);
  for (const r of summary.requirements) {
    lines.push(
      `${r.requirement.padEnd(reqWidth)}  ${MARK[r.status].padEnd(statusWidth)}  ${String(r.passed).padStart(4)}  ${String(r.failed).padStart(4)}  ${withInc ? `${String(r.inconclusive).padStart(3)}  ` : ''}${String(r.skipped).padStart(4)}  ${r.title}`,
    );
  }
  const all = summary.requirements.flatMap((r) => r.results);
  const header = (x: CheckResult) => `${MARK[x.status]} [${x.requirement}] ${resultName(x)}${location(x) ? ` (${location(x)})` : ''}`;
  const block = (x: CheckResult) => {
    lines.push(`  ${header(x)}`);
    lines.push(`${INDENT}${x.message}`);
    if (isLiveResult(x)) for (const l of liveDetailLines(x, { evidenceChars: 300 })) lines.push(`${INDENT}${l.replace(/\r?\n/g, `\n${INDENT}  `)}`);
  };
  const failures = all.filter((x) => x.status === 'fail');
  if (failures.length) {
    lines.push('', 'Failures:');
    failures.forEach(block);
  }
  const inconclusive = all.filter((x) => x.status === 'inconclusive');
  if (inconclusive.length) {
    lines.push('', 'Inconclusive (the instrument broke or enforcement is unproven — not a pass):');
    inconclusive.forEach(block);
  }
  const skips = all.filter((x) => x.status === 'skip');
  if (skips.length) {
    lines.push('', 'Skipped:');
    for (const s of skips) lines.push(`  SKIP [${s.requirement}] ${isLiveResult(s) ? resultName(s) : s.check}: ${s.message}`);
  }
  if (opts.verbose) {
    lines.push('', 'Passed:');
    for (const r of all.filter((y) => y.status === 'pass')) {
      lines.push(`  PASS [${r.requirement}] ${resultName(r)}: ${r.message}`);
      if (isLiveResult(r)) lines.push(`${INDENT}${verdictLine(r)}`);
    }
  }
  lines.push('', countsLine(summary));
  return lines.join('\n');
}

/** `N passed, N failed, N skipped` (`, N inconclusive` before skipped when there are any). */
export function countsLine(s: Pick<Summary, 'passed' | 'failed' | 'inconclusive' | 'skipped'>): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.inconclusive ? `${s.inconclusive} inconclusive, ` : ''}${s.skipped} skipped`;
}
