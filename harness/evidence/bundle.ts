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
  // Names that only hold secrets, inside a longer name (DB_PASSWORD=, aws_secret_access_key:, x-api-key:, "auth": in a docker config),
  // not words that merely start with one (secretbox:, secretName:); the value has a digit, so prose ("secret: none") stays.
  [new RegExp(String.raw`\b([A-Za-z0-9_.-]*(?:secret|passw(?:or)?d|api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?token)(?:[_.-][A-Za-z0-9_.-]*)?|auth)(${Q}\s*[:=]\s*${Q})(?=[^\s"'&\\,;]*\d)[^\s"'&\\,;\]]{8,}`, 'gi'), '$1$2[REDACTED]'],
];

/**
 * A Kubernetes Secret printed whole (kubectl get secret -o json|yaml in a
 * diagnostics file, an API response in evidence): every value of its data and
 * stringData, whatever the key is called. JSON (also escaped inside a JSON
 * string) and YAML.
 */
const SECRET_KIND = /\\?"kind\\?"\s*:\s*\\?"Secret\\?"|(?:^|\\n)[ \t]*kind:[ \t]*Secret[ \t]*(?:\\n|\r?$)/m;
function redactSecretData(text: string): string {
  if (!SECRET_KIND.test(text)) return text;
  const json = text.replace(/(\\?"(?:data|stringData)\\?"\s*:\s*\{)([^{}]*)(\})/g, (_m, open: string, body: string, close: string) =>
    `${open}${body.replace(/(\\?"[^"\\]+\\?"\s*:\s*)\\?"(?:[^"\\]|\\[^"])*\\?"/g, (_p, key: string) => `${key}${key.startsWith('\\') ? '\\"[REDACTED]\\"' : '"[REDACTED]"'}`)}${close}`,
  );
  // YAML: lines split on real newlines and on `\n` escapes (a YAML dump inside a JSON string); separators kept.
  const parts = json.split(/(\r?\n|\\n)/);
  for (let i = 0; i < parts.length; i += 2) {
    const head = /^(\s*)(?:data|stringData):\s*$/.exec(parts[i] as string);
    if (!head) continue;
    const indent = (head[1] as string).length;
    for (let j = i + 2; j < parts.length; j += 2) {
      const m = /^(\s*)([^:\s][^:]*:)\s*(\S.*)$/.exec(parts[j] as string);
      if (!m || (m[1] as string).length <= indent) break;
      parts[j] = `${m[1]}${m[2]} [REDACTED]`;
    }
  }
  return parts.join('');
}

export function redactCredentials(text: string): string {
  return CREDENTIAL_PATTERNS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), redactSecretData(text));
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
 * changed. A binary file is left alone unless it matches a credential
 * pattern: then it is replaced by a note saying it was withheld.
 */
export function redactTree(dir: string): string[] {
  const changed: string[] = [];
  for (const f of filesOf(dir)) {
    if (f.endsWith('/SHA256SUMS')) continue;
    const buf = readFileSync(f);
    if (!isText(buf)) {
      // A binary file cannot be redacted in place: one that carries a credential is withheld whole.
      const latin1 = buf.toString('latin1');
      if (redactCredentials(latin1) !== latin1) {
        writeFileSync(f, `[WITHHELD: this binary file (${buf.length} bytes) matched a credential pattern; the evidence package never carries credentials]\n`);
        changed.push(relative(dir, f));
      }
      continue;
    }
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
