import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { inScopeNamespaces } from '../../../harness/analyzers/workloads.ts';
import { loadManifestDir } from '../../../harness/manifests/load.ts';
import { liveManifestsDir } from '../../../harness/scenario/context.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../harness/cluster/exec.ts';
import type { Cluster } from '../../../harness/cluster/provider.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import { collectDiagnostics } from '../../../harness/scenario/diagnostics.ts';
import { configuredSecretsPrefix, etcdPod as findEtcdPod, etcdReplay, prefixCounts, readEtcdPrefix, storedPrefix, type EtcdKv } from '../../../harness/scenario/etcd.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';

/**
 * Data at rest, read from etcd itself (8.3.2 / 3.6.1): an insider with etcd
 * (or node disk) access reads what the API server stored.
 *   - EVERY key under /registry/secrets/ (not one sentinel) holds
 *     `k8s:enc:<provider>:v1:<key name>:` ciphertext, with the provider and
 *     key name of manifests/control-plane/encryption-config.yaml's first
 *     provider — read with etcdctl in the etcd pod;
 *   - a plaintext sentinel written through the API appears nowhere in etcd's
 *     files (the bbolt db and the WAL, read byte for byte on the control-plane
 *     node with `grep -c -F -f -`: the needle goes on stdin, never on a
 *     command line, never into the evidence). Positive control: the sentinel
 *     Secret's KEY (etcd keys are not encrypted) IS found in the same files,
 *     so the search reads what it claims to read.
 */
const SCENARIO = 'data-at-rest';
// A CDE namespace of the set under attack (the shipped set's or a user's), and ITS encryption config's prefix.
const NS = inScopeNamespaces(loadManifestDir(liveManifestsDir()))[0] ?? 'cde-storage';
const nonce = randomBytes(3).toString('hex');
const secretName = `at-rest-sentinel-${nonce}`;
const sentinel = `pci-at-rest-${randomBytes(12).toString('hex')}`;
const ETCD_DATA = '/var/lib/etcd/member';
const PREFIX = configuredSecretsPrefix(join(liveManifestsDir(), 'control-plane', 'encryption-config.yaml'));

let cluster: Cluster;
let etcdPod = '';
const node = () => `${cluster.name}-control-plane`;
const k = () => `kubectl --kubeconfig ${cluster.kubeconfigPath}`;
async function diagnose(reason: string): Promise<string> {
  const files = await collectDiagnostics(cluster, { reason: `${SCENARIO} ${reason}`, namespaces: ['kube-system', NS] });
  return files.length ? `\ndiagnostics: ${files[0]!.replace(/\/[^/]*$/, '')}` : '';
}

beforeAll(async () => {
  try {
    cluster = sharedCluster();
    etcdPod = await findEtcdPod(cluster);
    await cluster.kubectl(['create', 'secret', 'generic', secretName, '-n', NS, `--from-literal=token=${sentinel}`]);
  } catch (e) {
    throw new Error(`INCONCLUSIVE: ${SCENARIO} set-up failed (no observation was made): ${redactCredentials((e as Error).message)}`);
  }
});

afterAll(async () => {
  const r = await cluster?.kubectl(['delete', 'secret', secretName, '-n', NS, '--ignore-not-found', '--wait=false'], { reject: false, timeoutMs: 30_000 });
  if (r && r.exitCode !== 0) process.stderr.write(`${SCENARIO}: could not delete sentinel Secret ${NS}/${secretName}: ${r.stderr.trim()}\n`);
});

describe('data at rest: what etcd holds for Secrets', () => {
  it(`every key under /registry/secrets/ is ${PREFIX} ciphertext (3.6.1, 8.3.2)`, async () => {
    const t0 = Date.now();
    const base = {
      lane: 'live' as const,
      check: 'live.encryption.etcd' as const,
      requirement: '3.6.1',
      scenario: SCENARIO,
      adversary: 'insider with etcd read access',
      action: 'read every key under /registry/secrets/ with etcdctl in the etcd pod',
      predicted: 'not-logged' as const,
      layer: { kind: 'encryption' as const, names: [`EncryptionConfiguration ${PREFIX}`] },
      replay: etcdReplay(k(), etcdPod, '/registry/secrets/', PREFIX.length),
    };
    let kvs: EtcdKv[];
    try {
      kvs = await readEtcdPrefix(cluster, etcdPod, '/registry/secrets/');
      if (!kvs.some((kv) => kv.key === `/registry/secrets/${NS}/${secretName}`)) throw new Error(`the sentinel /registry/secrets/${NS}/${secretName} is not among the ${kvs.length} keys read`);
    } catch (e) {
      const msg = redactCredentials((e as Error).message);
      const r: LiveResult = { ...base, status: 'inconclusive', observed: 'check-failed', message: `instrument failed: ${msg}`, evidence: `${msg}${await diagnose('etcdctl')}`, ms: Date.now() - t0 };
      recordLiveResults([r]);
      throw new Error(`INCONCLUSIVE: ${explain(r)}`);
    }
    const wrong = kvs.filter((kv) => !kv.value.subarray(0, PREFIX.length).equals(Buffer.from(PREFIX)));
    const result: LiveResult = {
      ...base,
      status: wrong.length === 0 ? 'pass' : 'fail',
      observed: wrong.length === 0 ? 'not-logged' : 'logged',
      object: `etcd /registry/secrets/ (${kvs.length} keys)`,
      message: wrong.length === 0 ? `all ${kvs.length} Secrets in etcd begin ${PREFIX}` : `${wrong.length} of ${kvs.length} Secrets in etcd are not ${PREFIX} ciphertext: ${wrong.map((w) => `${w.key} (${JSON.stringify(storedPrefix(w.value))})`).join(', ')}`,
      // Keys and prefixes only: never a value, not even ciphertext.
      evidence: `prefixes: ${prefixCounts(kvs)}; keys: ${kvs.map((kv) => kv.key).join(', ')}`,
      ...(wrong.length ? { finding: `Secrets stored unencrypted or under another provider/key than the set's EncryptionConfiguration (${PREFIX}): ${wrong.map((w) => w.key).join(', ')}` } : {}),
      ms: Date.now() - t0,
    };
    if (result.status !== 'pass') result.evidence += await diagnose('prefix');
    recordLiveResults([result]);
    expect(kvs.length).toBeGreaterThan(1);
    expect(result.status, explain(result)).toBe('pass');
  });

  it("the plaintext sentinel is nowhere in etcd's data files (db and WAL), while its key is (8.3.2)", async () => {
    const t0 = Date.now();
    // grep -c per file of the data dir; -a: binary files as text; the needle on stdin (-f -).
    const grep = (needle: string) => run('docker', ['exec', '-i', node(), 'grep', '-r', '-a', '-c', '-F', '-f', '-', ETCD_DATA], { input: `${needle}\n`, reject: false, timeoutMs: 60_000 });
    const counts = (out: string) =>
      out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const i = l.lastIndexOf(':');
          return { file: l.slice(0, i), n: Number(l.slice(i + 1)) };
        });
    const base = {
      lane: 'live' as const,
      check: 'live.encryption.etcd' as const,
      requirement: '8.3.2',
      scenario: SCENARIO,
      adversary: 'insider with the control-plane node disk',
      action: `search every file under ${ETCD_DATA} on ${cluster.name}-control-plane for the sentinel value of Secret ${NS}/${secretName}`,
      predicted: 'not-logged' as const,
      layer: { kind: 'encryption' as const, names: [`EncryptionConfiguration ${PREFIX}`] },
      object: `Secret/${NS}/${secretName}`,
      replay: `${k()} get secret ${secretName} -n ${NS} -o jsonpath='{.data.token}' | base64 -d | docker exec -i ${node()} grep -r -a -c -F -f - ${ETCD_DATA}`,
    };
    const plain = await grep(sentinel);
    const key = await grep(`/registry/secrets/${NS}/${secretName}`);
    // grep: 0 = some file matched, 1 = none matched, 2 = error.
    if (plain.exitCode > 1 || key.exitCode > 1) {
      const msg = redactCredentials(`${plain.stderr} ${key.stderr}`.trim());
      const r: LiveResult = { ...base, status: 'inconclusive', observed: 'check-failed', message: `instrument failed: grep exited ${plain.exitCode}/${key.exitCode}: ${msg}`, evidence: `${msg}${await diagnose('grep')}`, ms: Date.now() - t0 };
      recordLiveResults([r]);
      throw new Error(`INCONCLUSIVE: ${explain(r)}`);
    }
    const plainHits = counts(plain.stdout).filter((c) => c.n > 0);
    const files = counts(plain.stdout);
    const keyHits = counts(key.stdout).filter((c) => c.n > 0);
    const control = keyHits.length > 0;
    const result: LiveResult = {
      ...base,
      status: !control ? 'inconclusive' : plainHits.length ? 'fail' : 'pass',
      observed: !control ? 'check-failed' : plainHits.length ? 'logged' : 'not-logged',
      message: !control
        ? `the sentinel's key is in none of the ${files.length} files searched: the search does not read what etcd wrote`
        : plainHits.length
          ? `the plaintext Secret value is on disk in ${plainHits.map((h) => h.file).join(', ')}`
          : `the plaintext is in none of ${files.length} etcd files; its key is in ${keyHits.map((h) => h.file).join(', ')} (positive control)`,
      evidence: `value matches per file: ${files.map((f) => `${f.file}=${f.n}`).join(', ')}; key matches: ${keyHits.map((f) => `${f.file}=${f.n}`).join(', ') || 'none'}`,
      ...(plainHits.length ? { finding: 'Secret values are written to etcd in plain text (8.3.2)' } : {}),
      ms: Date.now() - t0,
    };
    if (result.status !== 'pass') result.evidence += await diagnose('disk');
    recordLiveResults([result]);
    expect(control, explain(result)).toBe(true);
    expect(plainHits, explain(result)).toEqual([]);
  });
});
