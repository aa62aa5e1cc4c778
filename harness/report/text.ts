import type { CheckResult } from '../check/types.ts';
import type { Summary } from './summary.ts';

const MARK = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;

function location(r: CheckResult): string {
  return r.file ? `${r.file}${r.line ? `:${r.line}` : ''}` : '';
}

/** The per-requirement table a person reads first, then every failure with where to fix it. */
export function renderText(summary: Summary, opts: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  const reqWidth = Math.max(11, ...summary.requirements.map((r) => r.requirement.length));
  lines.push(`${'requirement'.padEnd(reqWidth)}  status  pass  fail  skip  title`);
  for (const r of summary.requirements) {
    lines.push(
      `${r.requirement.padEnd(reqWidth)}  ${MARK[r.status]}    ${String(r.passed).padStart(4)}  ${String(r.failed).padStart(4)}  ${String(r.skipped).padStart(4)}  ${r.title}`,
    );
  }
  const failures = summary.requirements.flatMap((r) => r.results.filter((x) => x.status === 'fail'));
  if (failures.length) {
    lines.push('', 'Failures:');
    for (const f of failures) {
      lines.push(`  FAIL [${f.requirement}] ${f.check}${f.object ? ` ${f.object}` : ''}${location(f) ? ` (${location(f)})` : ''}`);
      lines.push(`       ${f.message}`);
    }
  }
  const skips = summary.requirements.flatMap((r) => r.results.filter((x) => x.status === 'skip'));
  if (skips.length) {
    lines.push('', 'Skipped:');
    for (const s of skips) lines.push(`  SKIP [${s.requirement}] ${s.check}: ${s.message}`);
  }
  if (opts.verbose) {
    lines.push('', 'Passed:');
    for (const r of summary.requirements.flatMap((x) => x.results.filter((y) => y.status === 'pass'))) {
      lines.push(`  PASS [${r.requirement}] ${r.check}${r.object ? ` ${r.object}` : ''}: ${r.message}`);
    }
  }
  lines.push('', `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  return lines.join('\n');
}
