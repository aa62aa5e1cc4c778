import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { STEP_SUMMARY_LIMIT, stepSummaryCommand, truncateForSummary } from './step-summary.ts';

const dir = mkdtempSync(join(tmpdir(), 'pci-step-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('step-summary: Markdown into $GITHUB_STEP_SUMMARY under GitHub\'s 1 MiB', () => {
  it('text that fits is unchanged', () => {
    expect(truncateForSummary('| a | b |\n', 100)).toBe('| a | b |\n');
  });

  it('over the budget: cut at a line end, never above the budget, the note says how much was left out', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `| weaker | matrix | cell ${i} → datastore |`).join('\n');
    const out = truncateForSummary(lines, 10_000, 'the pci-evidence artifact');
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(10_000);
    const [kept, note] = out.split('\n\n> **Truncated**: ');
    expect(lines.startsWith(kept!)).toBe(true);
    expect(kept!.endsWith('|\n')).toBe(true); // whole lines only
    expect(note).toMatch(new RegExp(`^${Buffer.byteLength(lines) - Buffer.byteLength(kept!)} more bytes did not fit .* the full text is in the pci-evidence artifact\\.\\n$`));
  });

  it('one huge line: cut on a UTF-8 character boundary, not inside → or ✓', () => {
    const line = '→✓'.repeat(100_000);
    const out = truncateForSummary(line, 1001);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(1001);
    expect(out).not.toContain('\uFFFD');
    expect(line.startsWith(out.split('\n\n> **Truncated**')[0]!)).toBe(true);
  });

  it('appends to the file, counting what it already holds: the whole file stays under the limit', async () => {
    const to = join(dir, 'summary');
    writeFileSync(to, 'x'.repeat(STEP_SUMMARY_LIMIT - 2000));
    const input = join(dir, 'diff.md');
    writeFileSync(input, `${'| removed | rbac | a → b |\n'.repeat(400)}`);
    expect(await stepSummaryCommand([input, '--to', to])).toBe(0);
    const all = readFileSync(to);
    expect(all.length).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT);
    expect(all.toString()).toContain('> **Truncated**');
    // From standard input, into a file with room: appended whole.
    const roomy = join(dir, 'roomy');
    expect(await stepSummaryCommand(['--to', roomy], Readable.from([Buffer.from('# diff\n0 weaker')]))).toBe(0);
    expect(readFileSync(roomy, 'utf8')).toBe('# diff\n0 weaker\n');
  });

  it('a missing input file or a bad limit is a usage error (exit 2 through the CLI), not a crash', async () => {
    await expect(stepSummaryCommand([join(dir, 'absent.md'), '--to', join(dir, 's')])).rejects.toThrow(/absent\.md does not exist/);
    await expect(stepSummaryCommand(['--limit=-1', '--to', join(dir, 's')], Readable.from([]))).rejects.toThrow(/not a positive number/);
    await expect(stepSummaryCommand(['--limit=1MiB', '--to', join(dir, 's')], Readable.from([]))).rejects.toThrow(/not a positive number/);
  });
});
