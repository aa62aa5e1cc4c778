import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { redactCredentials, redactTree, redactValue, sealEvidence, writeChecksums } from './bundle.ts';

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

  it('redacts bearer headers, --token flags, and keys inside JSON strings and XML attributes; leaves prose and ciphertext prefixes', () => {
    const token = 'sha256~Xq3vP9kLmN2bR7tYw4zA8cD1eF6gH0jK';
    expect(redactCredentials(`Authorization: Bearer ${token}`)).toBe('Authorization: Bearer [REDACTED]');
    expect(redactCredentials('Authorization: Basic YWxpY2U6c2VjcmV0cGFzcw==')).toBe('Authorization: Basic [REDACTED]');
    expect(redactCredentials(`kubectl --token ${token} get ns`)).toBe('kubectl --token [REDACTED] get ns');
    expect(redactCredentials(JSON.stringify({ evidence: `{"token": "${'x'.repeat(20)}"}` }))).not.toContain('x'.repeat(20));
    expect(redactCredentials(`<failure message="token: &quot;${'y'.repeat(20)}&quot;">`)).not.toContain('y'.repeat(20));
    const pem = JSON.stringify(`-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQ\n-----END EC PRIVATE KEY-----`);
    expect(redactCredentials(pem)).toBe('"[REDACTED PRIVATE KEY]"');
    // Cut short by a reporter's truncation: still redacted.
    expect(redactCredentials('evidence: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B… (900 chars)')).not.toContain('MIIEvQ');
    for (const keep of ['Bearer authentication is used', 'Basic configuration standards', 'k8s:enc:secretbox:v1:key-2026-11:', 'SecretName: payment-api-config']) {
      expect(redactCredentials(keep)).toBe(keep);
    }
  });

  it('redactValue redacts every string of a live result; redactTree rewrites text files and withholds a binary one that carries a credential; sealEvidence checksums the redacted tree', () => {
    const r = redactValue({ evidence: `token: ${'z'.repeat(30)}`, nested: { list: [`Bearer ${'a1'.repeat(10)}`] }, ms: 5 });
    expect(r).toEqual({ evidence: 'token: [REDACTED]', nested: { list: ['Bearer [REDACTED]'] }, ms: 5 });
    const dir = mkdtempSync(join(tmpdir(), 'pci-redact-'));
    mkdirSync(join(dir, 'diagnostics', 'x'), { recursive: true });
    writeFileSync(join(dir, 'diagnostics', 'x', 'logs.txt'), `password=${'p'.repeat(20)}\n`);
    const binary = Buffer.from([0, 1, 2, ...Buffer.from(`token: ${'b'.repeat(20)}`)]);
    writeFileSync(join(dir, 'blob.bin'), binary);
    writeFileSync(join(dir, 'clean.txt'), 'nothing here\n');
    const cleanBinary = Buffer.from([0, 1, 2, 3, 255]);
    writeFileSync(join(dir, 'clean.bin'), cleanBinary);
    expect(redactTree(dir)).toEqual(['blob.bin', 'diagnostics/x/logs.txt']);
    expect(readFileSync(join(dir, 'diagnostics', 'x', 'logs.txt'), 'utf8')).toBe('password=[REDACTED]\n');
    expect(readFileSync(join(dir, 'blob.bin'), 'utf8')).toMatch(/^\[WITHHELD: this binary file \(30 bytes\) matched a credential pattern/);
    expect(readFileSync(join(dir, 'clean.bin')).equals(cleanBinary)).toBe(true);
    writeFileSync(join(dir, 'late.json'), `{"client-key-data": "${'k'.repeat(40)}"}`);
    const { redacted } = sealEvidence(dir);
    expect(redacted).toEqual(['late.json']);
    expect(() => execFileSync('sha256sum', ['-c', 'SHA256SUMS', '--quiet'], { cwd: dir })).not.toThrow();
  });
});
