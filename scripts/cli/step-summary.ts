import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../../harness/errors.ts';
import { EXIT } from './exit-codes.ts';

/**
 * `pci-harness step-summary [FILE]`: append Markdown (a baseline diff, a
 * summary.md) to $GITHUB_STEP_SUMMARY without crossing GitHub's limit of
 * 1 MiB per step — over it, the step's whole summary is dropped and the job
 * shows an error instead of the diff. What is already in the file counts;
 * the text is cut at a line end (never inside a UTF-8 character) and a
 * closing note says how much was left out and where the full text is.
 */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

/** `text` cut to at most `budget` bytes (UTF-8), at a line end, with the note; unchanged when it fits. */
export function truncateForSummary(text: string, budget: number, where = 'the evidence package artifact'): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= budget) return text;
  const note = (omitted: number) => `\n\n> **Truncated**: ${omitted} more bytes did not fit GitHub's 1 MiB step summary; the full text is in ${where}.\n`;
  // The note's length depends on the number in it: reserve for the largest possible number.
  const room = budget - Buffer.byteLength(note(bytes.length));
  if (room <= 0) return '';
  let cut = bytes.lastIndexOf(0x0a, room - 1) + 1; // after the last newline that fits
  if (cut <= 0) {
    cut = room;
    while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut--; // back off a UTF-8 continuation byte
  }
  const kept = bytes.subarray(0, cut).toString('utf8');
  return `${kept}${note(bytes.length - cut)}`;
}

export const STEP_SUMMARY_USAGE = `Usage: pci-harness step-summary [FILE] [--to FILE] [--limit BYTES] [--where TEXT]

Appends FILE (default: standard input) to $GITHUB_STEP_SUMMARY, cut at a line
so the step's summary stays under GitHub's ${STEP_SUMMARY_LIMIT} bytes (what the file
already holds counts), with a note saying how much was left out.
  --to FILE      the summary file (default $GITHUB_STEP_SUMMARY; standard output when unset)
  --limit BYTES  the limit (default ${STEP_SUMMARY_LIMIT})
  --where TEXT   where the full text is, for the note (default: the evidence package artifact)
Exit: 0 appended; 2 FILE missing or a bad --limit.`;

export async function stepSummaryCommand(argv: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { to: { type: 'string' }, limit: { type: 'string' }, where: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${STEP_SUMMARY_USAGE}\n`);
    return EXIT.ok;
  }
  const limit = values.limit === undefined ? STEP_SUMMARY_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit <= 0) throw new InputError(`--limit "${values.limit}" is not a positive number of bytes`);
  let text: string;
  if (positionals[0]) {
    const file = resolve(positionals[0]);
    if (!existsSync(file)) throw new InputError(`${file} does not exist`, { hint: 'the step that writes it failed before writing; see its log' });
    text = readFileSync(file, 'utf8');
  } else {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
    text = Buffer.concat(chunks).toString('utf8');
  }
  const to = values.to ?? process.env.GITHUB_STEP_SUMMARY;
  const used = to && existsSync(to) ? statSync(to).size : 0;
  const out = truncateForSummary(text.endsWith('\n') ? text : `${text}\n`, limit - used, values.where);
  if (to) appendFileSync(to, out);
  else process.stdout.write(out);
  return EXIT.ok;
}
