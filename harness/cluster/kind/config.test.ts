import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InputError } from '../../errors.ts';
import { REPO_ROOT } from '../paths.ts';
import { controlPlaneOnly, newEncryptionKey, renderClusterConfig, renderTemplate } from './config.ts';

const manifestsDir = join(REPO_ROOT, 'manifests');
const dirs: string[] = [];
const work = () => {
  const d = mkdtempSync(join(tmpdir(), 'pci-config-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('renderTemplate', () => {
  it('substitutes every placeholder', () => {
    expect(renderTemplate('a: ${X}\nb: ${Y_2}', { X: '1', Y_2: '2' }, 'f.yaml')).toBe('a: 1\nb: 2');
  });
  it('never writes a value into a comment line (the encryption key must not sit in the header comment)', () => {
    const out = renderTemplate('# TEMPLATE: ${ENCRYPTION_KEY} is replaced\n  # also ${ENCRYPTION_KEY}\nsecret: ${ENCRYPTION_KEY}', { ENCRYPTION_KEY: 'k3y' }, 'enc.yaml');
    expect(out).toBe('# TEMPLATE: ${ENCRYPTION_KEY} is replaced\n  # also ${ENCRYPTION_KEY}\nsecret: k3y');
  });
  it('names unknown placeholders instead of leaving them for kind to trip on', () => {
    expect(() => renderTemplate('p: ${AUDIT_DIR} ${NOPE}', { AUDIT_DIR: '/x' }, 'kind.yaml')).toThrow(InputError);
    expect(() => renderTemplate('p: ${NOPE}', {}, 'kind.yaml')).toThrow(/\$\{NOPE\}/);
  });
});

describe('newEncryptionKey', () => {
  it('is 32 random bytes, base64, different every time', () => {
    const a = newEncryptionKey();
    expect(Buffer.from(a, 'base64')).toHaveLength(32);
    expect(newEncryptionKey()).not.toBe(a);
  });
});

describe.each(['pci-calico', 'kindnet'])('renderClusterConfig(%s) with the shipped manifests', (layout) => {
  it('leaves no placeholder, mounts the per-cluster dirs, and writes a fresh key only into a 0600 file', () => {
    const dir = work();
    const r = renderClusterConfig({ manifestsDir, layout, workDir: dir });
    const kindText = readFileSync(r.kindConfigPath, 'utf8');
    // Placeholders survive only in comment lines (the templates' own documentation).
    expect(kindText.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n')).not.toMatch(/\$\{[A-Z_]+\}/);
    const cfg = parse(kindText) as { kind: string; nodes: Array<{ role: string; extraMounts?: Array<{ hostPath: string }> }> };
    expect(cfg.kind).toBe('Cluster');
    const mounts = cfg.nodes.find((n) => n.role === 'control-plane')?.extraMounts?.map((m) => m.hostPath);
    expect(mounts).toEqual(expect.arrayContaining([r.controlPlaneDir, r.auditLogDir]));

    const encPath = join(r.controlPlaneDir, 'encryption-config.yaml');
    expect(statSync(encPath).mode & 0o777).toBe(0o600);
    const enc = parse(readFileSync(encPath, 'utf8')) as { resources: Array<{ providers: Array<Record<string, { keys?: Array<{ secret: string }> }>> }> };
    const secret = Object.values(enc.resources[0]!.providers[0]!)[0]!.keys![0]!.secret;
    expect(Buffer.from(secret, 'base64')).toHaveLength(32);
    // Exactly once in the file: the key entry, never a comment.
    expect(readFileSync(encPath, 'utf8').split(secret)).toHaveLength(2);
    // Never in the rendered kind config, never in the repo template.
    expect(kindText).not.toContain(secret);
    expect(readFileSync(join(manifestsDir, 'control-plane', 'encryption-config.yaml'), 'utf8')).not.toContain(secret);

    // A second cluster gets its own key.
    const r2 = renderClusterConfig({ manifestsDir, layout, workDir: work() });
    expect(readFileSync(join(r2.controlPlaneDir, 'encryption-config.yaml'), 'utf8')).not.toContain(secret);
  });
});

describe('controlPlaneOnly', () => {
  it('keeps the control-plane node with its mounts and drops the workers', () => {
    const r = renderClusterConfig({ manifestsDir, layout: 'kindnet', workDir: work(), singleNode: true });
    const cfg = parse(readFileSync(r.kindConfigPath, 'utf8')) as { nodes: Array<{ role: string; extraMounts?: unknown[] }> };
    expect(cfg.nodes.map((n) => n.role)).toEqual(['control-plane']);
    expect(cfg.nodes[0]!.extraMounts).toHaveLength(2);
  });
  it('refuses a config without a control plane', () => {
    expect(() => controlPlaneOnly('kind: Cluster\nnodes:\n  - role: worker\n')).toThrow(/no control-plane/);
  });
});
