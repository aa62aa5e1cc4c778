import { mkdtempSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, SHIPPED, STACK_FRAME } from './cli.ts';

/** A copy of the shipped set with one file added or replaced. */
function setWith(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pci-bad-'));
  cpSync(SHIPPED, dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const NS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra-ns\n';

const cases: Array<{ name: string; dir: () => string; expect: RegExp }> = [
  {
    name: 'malformed YAML',
    dir: () => setWith({ 'cluster/zz-bad.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   namespace: [oops\n' }),
    expect: /cluster\/zz-bad\.yaml:\d+: malformed YAML/,
  },
  {
    name: 'unknown kind',
    dir: () => setWith({ 'cluster/zz-bad.yaml': `${NS}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicyy\nmetadata:\n  name: typo\n  namespace: extra-ns\n` }),
    expect: /cluster\/zz-bad\.yaml:6: unknown kind NetworkPolicyy/,
  },
  {
    name: 'duplicate objects',
    dir: () => setWith({ 'cluster/zz-bad.yaml': `${NS}---\n${NS}` }),
    expect: /cluster\/zz-bad\.yaml:6: duplicate object Namespace extra-ns[\s\S]*first defined at cluster\/zz-bad\.yaml:1/,
  },
  {
    name: 'object in a namespace the set never creates',
    dir: () => setWith({ 'cluster/zz-bad.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  namespace: nowhere\n' }),
    expect: /cluster\/zz-bad\.yaml:5: ConfigMap stray is in namespace "nowhere", which the set never creates/,
  },
  {
    name: 'empty directory',
    dir: () => mkdtempSync(join(tmpdir(), 'pci-empty-')),
    expect: /no YAML documents under/,
  },
  {
    name: 'binary file',
    dir: () => setWith({ 'cluster/zz-blob.yaml': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0xff, 0xfe]) }),
    expect: /cluster\/zz-blob\.yaml:1: binary file/,
  },
  {
    name: 'a document that is not a mapping',
    dir: () => setWith({ 'cluster/zz-bad.yaml': '- just\n- a list\n' }),
    expect: /cluster\/zz-bad\.yaml:1: document is not a mapping/,
  },
  {
    name: 'missing directory',
    dir: () => join(tmpdir(), 'pci-does-not-exist-42'),
    expect: /manifest directory not found/,
  },
];

describe('bad input: exit 2 with file, line and reason, never a stack trace', () => {
  it.each(cases)('$name', async ({ dir, expect: pattern }) => {
    const r = await cli(['check', '--manifests', dir(), '--skip-kyverno']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stdout).toBe('');
  });

  it.each([
    [['check', '--no-such-flag'], /Unknown option '--no-such-flag'/],
    [['check', '--format', 'pdf'], /unknown --format "pdf"[\s\S]*text, json, junit, sarif/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('usage error %j', async (args, pattern) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
