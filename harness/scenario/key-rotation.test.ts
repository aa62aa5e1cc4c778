import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cluster/paths.ts';
import { newEncryptionKey, renderTemplate } from '../cluster/kind/config.ts';
import { judgeRotation, rotationKeyName, secretDigests, secretsKeyNames, secretsKeys, withSecretsKeys } from './key-rotation.ts';

const file = join(REPO_ROOT, 'manifests/control-plane/encryption-config.yaml');
const rendered = () => renderTemplate(readFileSync(file, 'utf8'), { ENCRYPTION_KEY: newEncryptionKey() }, file);
const kv = (key: string, prefix: string) => ({ key, value: Buffer.from(`${prefix}\x00\x01ciphertext`, 'latin1') });

describe('withSecretsKeys on the shipped encryption config', () => {
  it('adds, promotes and removes keys of the first provider and leaves identity last', () => {
    const cfg = rendered();
    expect(secretsKeyNames(cfg)).toEqual({ provider: 'secretbox', keys: ['key-2026-11'] });
    const [old] = secretsKeys(cfg);
    const fresh = { name: rotationKeyName(new Date('2027-03-04T00:00:00Z'), 'ab12'), secret: newEncryptionKey() };
    expect(fresh.name).toBe('key-2027-03-rot-ab12');
    const added = withSecretsKeys(cfg, [old!, fresh]);
    expect(secretsKeyNames(added).keys).toEqual(['key-2026-11', fresh.name]);
    const promoted = withSecretsKeys(added, [fresh, old!]);
    expect(secretsKeyNames(promoted).keys).toEqual([fresh.name, 'key-2026-11']);
    const removed = withSecretsKeys(promoted, [fresh]);
    expect(secretsKeyNames(removed).keys).toEqual([fresh.name]);
    expect(/- identity: \{\}/.test(removed)).toBe(true);
    // The rendered template's comment holds the key: a rotated config must not keep the old one there.
    expect(added.includes(old!.secret) && !removed.includes(old!.secret)).toBe(true);
    expect(() => withSecretsKeys(cfg, [old!, old!])).toThrow(/duplicate/);
  });
});

describe('judgeRotation', () => {
  const before = secretDigests({ items: [{ metadata: { namespace: 'a', name: 's1' }, data: { k: 'djE=' } }, { metadata: { namespace: 'a', name: 's2' }, data: { k: 'djI=' } }] });
  const args = { before, after: before, provider: 'secretbox', newKey: 'new', oldKey: 'old' };
  it('passes when every key is under the new key and every value reads back unchanged', () => {
    const v = judgeRotation({ ...args, kvs: [kv('/registry/secrets/a/s1', 'k8s:enc:secretbox:v1:new:'), kv('/registry/secrets/a/s2', 'k8s:enc:secretbox:v1:new:')] });
    expect(v.ok, v.summary).toBe(true);
  });
  it('fails naming the Secret left under the old key (the rewrite was skipped)', () => {
    const v = judgeRotation({ ...args, kvs: [kv('/registry/secrets/a/s1', 'k8s:enc:secretbox:v1:new:'), kv('/registry/secrets/a/s2', 'k8s:enc:secretbox:v1:old:')] });
    expect(v.ok).toBe(false);
    expect(v.underOldKey).toEqual(['/registry/secrets/a/s2']);
    expect(v.notUnderNewKey).toEqual([{ key: '/registry/secrets/a/s2', prefix: 'k8s:enc:secretbox:v1:old:' }]);
  });
  it('fails on plaintext, a changed value or a Secret that no longer reads', () => {
    const plain = judgeRotation({ ...args, kvs: [{ key: '/registry/secrets/a/s1', value: Buffer.from('k8s\x00\n\x0cv1') }] });
    expect(plain.ok).toBe(false);
    const changed = secretDigests({ items: [{ metadata: { namespace: 'a', name: 's1' }, data: { k: 'eA==' } }] });
    const v = judgeRotation({ ...args, after: changed, kvs: [kv('/registry/secrets/a/s1', 'k8s:enc:secretbox:v1:new:')] });
    expect(v.changed).toEqual(['a/s1']);
    expect(v.missing).toEqual(['a/s2']);
    expect(v.ok).toBe(false);
  });
});
