import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

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

/** Evidence must never carry credentials (guide defect 19). Redact anything that looks like one before writing. */
const CREDENTIAL_PATTERNS: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[REDACTED PRIVATE KEY]'],
  [/(client-key-data|client-certificate-data|token|password|secret)(["']?\s*[:=]\s*["']?)[A-Za-z0-9+/=._-]{16,}/gi, '$1$2[REDACTED]'],
  [/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, '[REDACTED TOKEN]'], // JWTs (ServiceAccount tokens)
];

export function redactCredentials(text: string): string {
  return CREDENTIAL_PATTERNS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}
