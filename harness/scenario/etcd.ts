import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../cluster/paths.ts';
import type { Cluster } from '../cluster/provider.ts';

/**
 * What etcd holds, read the way an insider with etcd access reads it:
 * etcdctl in the etcd static pod, with etcd's own server certificate (kubeadm
 * layout). Values are returned as bytes for prefix checks only — callers
 * never put a value, not even ciphertext, into a result.
 */
export const ETCD_PKI = '/etc/kubernetes/pki/etcd';

export interface EtcdKv {
  key: string;
  value: Buffer;
}

/** The etcd static pod's name (kube-system, component=etcd). */
export async function etcdPod(cluster: Cluster): Promise<string> {
  const pod = (await cluster.kubectl(['get', 'pods', '-n', 'kube-system', '-l', 'component=etcd', '-o', 'jsonpath={.items[0].metadata.name}'], { timeoutMs: 30_000 })).stdout.trim();
  if (!pod) throw new Error('no etcd pod in kube-system (label component=etcd)');
  return pod;
}

/** kubectl arguments that run `etcdctl <args>` in the etcd pod. */
export function etcdctlArgs(pod: string, ...args: string[]): string[] {
  return ['exec', '-n', 'kube-system', pod, '--', 'etcdctl', '--endpoints=https://127.0.0.1:2379', `--cacert=${ETCD_PKI}/ca.crt`, `--cert=${ETCD_PKI}/server.crt`, `--key=${ETCD_PKI}/server.key`, ...args];
}

/** Every key under `prefix` in one read (-w json: keys and values base64, binary-safe); throws when etcd returned fewer than it counted. */
export async function readEtcdPrefix(cluster: Cluster, pod: string, prefix: string): Promise<EtcdKv[]> {
  const r = await cluster.kubectl(etcdctlArgs(pod, 'get', prefix, '--prefix', '-w', 'json'), { timeoutMs: 60_000 });
  const j = JSON.parse(r.stdout) as { kvs?: Array<{ key: string; value: string }>; count?: number };
  const kvs = (j.kvs ?? []).map((kv) => ({ key: Buffer.from(kv.key, 'base64').toString('utf8'), value: Buffer.from(kv.value, 'base64') }));
  if (kvs.length !== (j.count ?? kvs.length)) throw new Error(`etcdctl returned ${kvs.length} of ${j.count} keys under ${prefix}`);
  return kvs;
}

/** A shell line that replays `readEtcdPrefix` and prints each key with the first `n` bytes of its value. */
export function etcdReplay(kubectl: string, pod: string, prefix: string, n: number): string {
  return `${kubectl} ${etcdctlArgs(pod, 'get', prefix, '--prefix', '-w', 'json').join(' ')} | jq -r '.kvs[] | (.key|@base64d) + " " + (.value|@base64d|.[0:${n}])'`;
}

/** Only the `k8s:enc:<provider>:v1:<key>:` prefix of a stored value (or 4 printable bytes of a plaintext one): never the value. */
export function storedPrefix(v: Buffer): string {
  const s = v.subarray(0, 80).toString('latin1');
  return /^k8s:enc:[^:]+:v\d+:[^:]*:/.exec(s)?.[0] ?? s.slice(0, 4).replace(/[^\x20-\x7e]/g, '.');
}

/** Count of keys per stored prefix, for evidence: `"k8s:enc:secretbox:v1:k:"×12`. */
export function prefixCounts(kvs: readonly EtcdKv[]): string {
  const by = new Map<string, number>();
  for (const kv of kvs) by.set(storedPrefix(kv.value), (by.get(storedPrefix(kv.value)) ?? 0) + 1);
  return [...by].map(([p, n]) => `${JSON.stringify(p)}×${n}`).join(', ');
}

/** The `k8s:enc:<provider>:v1:<key>:` prefix a value written under `provider`/`keyName` carries. */
export function encryptionPrefix(provider: string, keyName: string): string {
  return `k8s:enc:${provider}:v1:${keyName}:`;
}

/** The provider and key name manifests/control-plane/encryption-config.yaml configures for Secrets (the first provider encrypts every write). */
export function configuredSecretsPrefix(file = join(REPO_ROOT, 'manifests/control-plane/encryption-config.yaml')): string {
  const doc = parseAllDocuments(readFileSync(file, 'utf8'))[0]!.toJS() as {
    resources: Array<{ resources: string[]; providers: Array<Record<string, { keys?: Array<{ name: string }> }>> }>;
  };
  const entry = doc.resources.find((r) => r.resources.includes('secrets'));
  if (!entry) throw new Error(`${file}: no resources entry covers secrets`);
  const [provider, cfg] = Object.entries(entry.providers[0]!)[0]!;
  return encryptionPrefix(provider, cfg.keys![0]!.name);
}
