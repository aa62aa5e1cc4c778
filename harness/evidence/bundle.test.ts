import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { redactCredentials, writeChecksums } from './bundle.ts';

describe('evidence bundle', () => {
  it('SHA256SUMS verifies with sha256sum -c and catches an edit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pci-evidence-'));
    writeFileSync(join(dir, 'check.json'), '{"ok":true}\n');
    writeFileSync(join(dir, 'summary.md'), '# run\n');
    writeChecksums(dir);
    expect(readFileSync(join(dir, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}check\.json$/m);
    expect(() => execFileSync('sha256sum', ['-c', 'SHA256SUMS', '--quiet'], { cwd: dir })).not.toThrow();
    writeFileSync(join(dir, 'check.json'), '{"ok":false}\n');
    expect(() => execFileSync('sha256sum', ['-c', 'SHA256SUMS', '--quiet'], { cwd: dir, stdio: 'pipe' })).toThrow();
  });

  it('redacts kubeconfig keys, tokens and private keys, keeps the rest', () => {
    const jwt = `eyJhbGciOiJSUzI1NiJ9.${'a'.repeat(40)}.${'b'.repeat(40)}`;
    const text = `client-key-data: ${'Q'.repeat(64)}\ntoken: ${jwt}\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nuser: alice`;
    const out = redactCredentials(text);
    expect(out).not.toContain('Q'.repeat(64));
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('MIIE');
    expect(out).toContain('client-key-data: [REDACTED]');
    expect(out).toContain('user: alice');
  });
});
