import type { Summary } from './summary.ts';
import { xmlEscape } from './xml.ts';

/**
 * JUnit XML: one testsuite per PCI requirement, one testcase per result.
 * Test names are stable (`<check> <object>`), so CI systems can track them
 * across runs.
 */
export function renderJunit(summary: Summary): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="pci-harness check" tests="${summary.passed + summary.failed + summary.skipped}" failures="${summary.failed}" skipped="${summary.skipped}">`,
  );
  for (const r of summary.requirements) {
    out.push(
      `  <testsuite name="${xmlEscape(`PCI DSS v4.0 ${r.requirement} ${r.title}`.trim())}" tests="${r.results.length}" failures="${r.failed}" skipped="${r.skipped}">`,
    );
    for (const x of r.results) {
      const name = xmlEscape(`${x.check}${x.object ? ` ${x.object}` : ''}`);
      const where = x.file ? ` (${x.file}${x.line ? `:${x.line}` : ''})` : '';
      out.push(`    <testcase classname="${xmlEscape(`pci.${r.requirement}`)}" name="${name}">`);
      if (x.status === 'fail') out.push(`      <failure message="${xmlEscape(x.message)}">${xmlEscape(x.message + where)}</failure>`);
      else if (x.status === 'skip') out.push(`      <skipped message="${xmlEscape(x.message)}"/>`);
      else out.push(`      <system-out>${xmlEscape(x.message)}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n');
}
