import { createHash } from 'node:crypto';
import { parseDocument, stringify } from 'yaml';
import { encryptionPrefix, storedPrefix, type EtcdKv } from './etcd.ts';

/**
 * The pure half of the key-rotation proof (suites/live/scenarios/key-rotation.test.ts):
 * rewriting the EncryptionConfiguration's key list for Secrets, fingerprinting
 * Secrets without keeping their values, and judging what etcd holds.
 * Key material passes through `withSecretsKeys` only; nothing here returns or
 * prints it.
 */
export interface EncryptionKey {
  name: string;
  /** base64 key material: never logged, never in a result. */
  secret: string;
}

type Providers = Array<Record<string, { keys?: EncryptionKey[] } | Record<string, never>>>;

function secretsEntry(configText: string): { index: number; providers: Providers } {
  const js = parseDocument(configText).toJS() as { kind?: string; resources?: Array<{ resources?: string[]; providers?: Providers }> };
  if (js.kind !== 'EncryptionConfiguration') throw new Error(`not an EncryptionConfiguration (kind ${js.kind ?? 'missing'})`);
  const index = (js.resources ?? []).findIndex((r) => r.resources?.includes('secrets'));
  if (index < 0) throw new Error('no resources entry covers secrets');
  return { index, providers: js.resources![index]!.providers ?? [] };
}

/** The provider that encrypts Secret writes (the first) and its key NAMES in order. */
export function secretsKeyNames(configText: string): { provider: string; keys: string[] } {
  const first = secretsEntry(configText).providers[0];
  if (!first) throw new Error('the secrets entry has no providers');
  const [provider, cfg] = Object.entries(first)[0]!;
  return { provider, keys: ((cfg as { keys?: EncryptionKey[] }).keys ?? []).map((k) => k.name) };
}

/** The first provider's keys, material included (to carry the old key into the next config). */
export function secretsKeys(configText: string): EncryptionKey[] {
  const first = secretsEntry(configText).providers[0]!;
  const keys = (Object.values(first)[0] as { keys?: EncryptionKey[] }).keys;
  if (!keys?.length) throw new Error(`provider ${Object.keys(first)[0]} has no keys list: only key-based providers (secretbox, aescbc, aesgcm) rotate this way`);
  return keys;
}

/**
 * The config with the first Secrets provider's keys replaced by `keys` (in
 * order: the first encrypts), every other field kept. Comments are dropped:
 * the rendered template's header comment carries the placeholder's value
 * (renderTemplate substitutes comments too), so keeping it would keep the
 * REMOVED key's material in the file.
 */
export function withSecretsKeys(configText: string, keys: readonly EncryptionKey[]): string {
  if (keys.length === 0) throw new Error('a key-based provider needs at least one key');
  const names = keys.map((k) => k.name);
  if (new Set(names).size !== names.length) throw new Error(`duplicate key names: ${names.join(', ')}`);
  const { index, providers } = secretsEntry(configText);
  const js = parseDocument(configText).toJS() as { resources: Array<{ providers: Providers }> };
  const provider = Object.keys(providers[0]!)[0]!;
  js.resources[index]!.providers[0] = { [provider]: { keys: keys.map((k) => ({ name: k.name, secret: k.secret })) } };
  return `# Rotated by pci-harness: keys ${names.join(', ')} (the first encrypts every write).\n${stringify(js)}`;
}

/** A key name for this rotation: `key-<yyyy-mm>-rot-<nonce>` (names are public; material never is). */
export function rotationKeyName(now: Date, nonce: string): string {
  return `key-${now.toISOString().slice(0, 7)}-rot-${nonce}`;
}

interface SecretItem {
  metadata: { namespace?: string; name: string };
  type?: string;
  data?: Record<string, string>;
}

/** `namespace/name` → sha256 of (type, sorted data): compares values without keeping them. */
export function secretDigests(list: { items: readonly SecretItem[] }): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of list.items) {
    const data = Object.entries(s.data ?? {}).sort(([a], [b]) => a.localeCompare(b));
    out.set(`${s.metadata.namespace ?? ''}/${s.metadata.name}`, createHash('sha256').update(JSON.stringify([s.type ?? '', data])).digest('hex'));
  }
  return out;
}

export interface RotationVerdict {
  ok: boolean;
  /** etcd keys whose value does not start with the new key's prefix, with the prefix they have. */
  notUnderNewKey: Array<{ key: string; prefix: string }>;
  /** etcd keys whose value names the old key. */
  underOldKey: string[];
  /** Secrets whose value (digest) differs from before the rotation, or that can no longer be read. */
  changed: string[];
  missing: string[];
  summary: string;
}

/**
 * After a rotation from `oldKey` to `newKey` (provider `provider`): EVERY
 * Secret in etcd starts `k8s:enc:<provider>:v1:<newKey>:`, none names the old
 * key, and every Secret that existed before reads back through the API with
 * its original value.
 */
export function judgeRotation(input: { kvs: readonly EtcdKv[]; before: ReadonlyMap<string, string>; after: ReadonlyMap<string, string>; provider: string; newKey: string; oldKey: string }): RotationVerdict {
  const want = Buffer.from(encryptionPrefix(input.provider, input.newKey));
  const old = Buffer.from(`:${input.oldKey}:`);
  const notUnderNewKey = input.kvs.filter((kv) => !kv.value.subarray(0, want.length).equals(want)).map((kv) => ({ key: kv.key, prefix: storedPrefix(kv.value) }));
  const underOldKey = input.kvs.filter((kv) => kv.value.subarray(0, 80).includes(old)).map((kv) => kv.key);
  const missing = [...input.before.keys()].filter((k) => !input.after.has(k));
  const changed = [...input.before].filter(([k, d]) => input.after.has(k) && input.after.get(k) !== d).map(([k]) => k);
  const ok = input.kvs.length > 0 && notUnderNewKey.length === 0 && underOldKey.length === 0 && missing.length === 0 && changed.length === 0;
  const parts = [
    `${input.kvs.length - notUnderNewKey.length} of ${input.kvs.length} Secrets in etcd under ${want.toString()}`,
    underOldKey.length ? `${underOldKey.length} still under the old key ${input.oldKey}` : `none under the old key ${input.oldKey}`,
    `${input.before.size - missing.length - changed.length} of ${input.before.size} Secrets read back with their original value${missing.length ? `; unreadable/missing: ${missing.join(', ')}` : ''}${changed.length ? `; CHANGED: ${changed.join(', ')}` : ''}`,
  ];
  return { ok, notUnderNewKey, underOldKey, changed, missing, summary: parts.join('; ') };
}
