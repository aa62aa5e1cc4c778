import { isLiveResult, liveDetailLines, resultName } from './live.ts';
import type { Summary } from './summary.ts';
import { xmlEscape } from './xml.ts';

/**
 * JUnit XML: one testsuite per PCI requirement, one testcase per result.
 * Test names are stable (`<check> <object>`; live: `<check> <scenario>:
 * <adversary> → <action>`), so CI systems can track them across runs.
 *   fail          → <failure>
 *   inconclusive  → <error> (the instrument broke: neither a pass nor a skip)
 *   skip          → <skipped>
 * Live results put who/what, predicted vs observed, evidence and the replay
 * command in <system-out>.
 */
export function renderJunit(summary: Summary, opts: { name?: string } = {}): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const tests = summary.passed + summary.failed + summary.inconclusive + summary.skipped;
  out.push(
    `<testsuites name="${xmlEscape(opts.name ?? 'pci-harness check')}" tests="${tests}" failures="${summary.failed}" errors="${summary.inconclusive}" skipped="${summary.skipped}">`,
  );
  for (const r of summary.requirements) {
    out.push(
      `  <testsuite name="${xmlEscape(`PCI DSS v4.0 ${r.requirement} ${r.title}`.trim())}" tests="${r.results.length}" failures="${r.failed}" errors="${r.inconclusive}" skipped="${r.skipped}">`,
    );
    for (const x of r.results) {
      const where = x.file ? ` (${x.file}${x.line ? `:${x.line}` : ''})` : '';
      const time = isLiveResult(x) && x.ms !== undefined ? ` time="${(x.ms / 1000).toFixed(3)}"` : '';
      out.push(`    <testcase classname="${xmlEscape(`pci.${r.requirement}`)}" name="${xmlEscape(resultName(x))}"${time}>`);
      const detail = isLiveResult(x) ? liveDetailLines(x, { who: true }).join('\n') : '';
      if (x.status === 'fail') out.push(`      <failure message="${xmlEscape(x.message)}">${xmlEscape(x.message + where + (detail ? `\n${detail}` : ''))}</failure>`);
      else if (x.status === 'inconclusive') out.push(`      <error type="inconclusive" message="${xmlEscape(x.message)}">${xmlEscape(x.message + (detail ? `\n${detail}` : ''))}</error>`);
      else if (x.status === 'skip') out.push(`      <skipped message="${xmlEscape(x.message)}"/>`);
      if (x.status === 'pass' || detail) out.push(`      <system-out>${xmlEscape(x.message + (detail ? `\n${detail}` : ''))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n');
}
