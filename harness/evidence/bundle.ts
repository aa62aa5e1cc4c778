import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * Write SHA256SUMS over every file of an evidence directory (sha256sum -c
 * format), so anyone can check that nothing was edited after the run.
 */
export function writeChecksums(dir: string): string {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n !== 'SHA256SUMS') files.push(p);
    }
  };
  walk(dir);
  const lines = files.map((f) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${relative(dir, f)}`);
  const out = join(dir, 'SHA256SUMS');
  writeFileSync(out, `${lines.join('\n')}\n`);
  return out;
}

/**
 * Evidence must never carry credentials (guide defect 19). Redact anything
 * that looks like one before writing. The patterns also match inside JSON
 * strings (`\"token\": \"...\"`, `\n` in PEM blocks) and XML (`&quot;`), since
 * evidence lands in .json, .jsonl and JUnit files too.
 */
const Q = String.raw`(?:\\?["']|&quot;|&apos;|&#39;)?`;
const CREDENTIAL_PATTERNS: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[REDACTED PRIVATE KEY]'],
  // A truncated block (evidence cut to N characters): the header and whatever base64 follows.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]|\\[nr])*/g, '[REDACTED PRIVATE KEY]'],
  [new RegExp(String.raw`(client-key-data|client-certificate-data|token|password|secret)(${Q}\s*[:=]\s*${Q})[A-Za-z0-9+/=._-]{16,}`, 'gi'), '$1$2[REDACTED]'],
  // HTTP Authorization headers (a token has a digit or symbol: "Bearer authentication" is prose) and kubectl flags.
  [/\b(Bearer\s+)(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{8,}=*/gi, '$1[REDACTED]'],
  [/(Authorization:\s*Basic\s+)[A-Za-z0-9+/]{8,}=*/gi, '$1[REDACTED]'],
  [/(--token(?:=|\s+))[^\s"'\\]{8,}/g, '$1[REDACTED]'],
  [/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, '[REDACTED TOKEN]'], // JWTs (ServiceAccount tokens)
];

export function redactCredentials(text: string): string {
  return CREDENTIAL_PATTERNS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** Every string inside a JSON-able value redacted (live results before they are rendered or truncated). */
export function redactValue<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_k, v: unknown) => (typeof v === 'string' ? redactCredentials(v) : v)) as T;
}

/** Write a text file of the evidence package, redacted. */
export function writeEvidence(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, redactCredentials(text));
}

function filesOf(dir: string): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(dir);
  return files;
}

/** Text means: no NUL byte in the first 8 KiB (what git and grep use). */
function isText(buf: Buffer): boolean {
  return !buf.subarray(0, 8192).includes(0);
}

/**
 * Redact every text file under `dir` in place — whatever wrote it: the
 * reporters, vitest's own outputs, live results appended by workers,
 * diagnostics collected on failure, the image record. Returns the files that
 * changed. Binary files are left alone.
 */
export function redactTree(dir: string): string[] {
  const changed: string[] = [];
  for (const f of filesOf(dir)) {
    if (f.endsWith('/SHA256SUMS')) continue;
    const buf = readFileSync(f);
    if (!isText(buf)) continue;
    const before = buf.toString('utf8');
    const after = redactCredentials(before);
    if (after !== before) {
      writeFileSync(f, after);
      changed.push(relative(dir, f));
    }
  }
  return changed;
}

/** Close the evidence package: redact every text file, then write SHA256SUMS over the result. */
export function sealEvidence(dir: string): { redacted: string[]; checksums: string } {
  const redacted = redactTree(dir);
  return { redacted, checksums: writeChecksums(dir) };
}
