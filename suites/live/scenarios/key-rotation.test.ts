import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BootedCluster } from '../../../harness/cluster/boot.ts';
import { controlPlaneNode, failingChecks, restartApiServer, type RestartReport } from '../../../harness/cluster/control-plane-edit.ts';
import { run } from '../../../harness/cluster/exec.ts';
import { newEncryptionKey } from '../../../harness/cluster/kind/config.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import { bootControlPlaneCluster } from '../../../harness/scenario/control-plane-cluster.ts';
import { encryptionPrefix, etcdctlArgs, etcdPod, etcdReplay, prefixCounts, readEtcdPrefix, storedPrefix, type EtcdKv } from '../../../harness/scenario/etcd.ts';
import { judgeRotation, rotationKeyName, secretDigests, secretsKeyNames, secretsKeys, withSecretsKeys, type EncryptionKey, type RotationVerdict } from '../../../harness/scenario/key-rotation.ts';
import { pollUntil } from '../../../harness/scenario/poll.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { destroyOwnCluster, writeBootReport } from '../support/report.ts';
import { explain } from '../support/scenario.ts';

/**
 * Key rotation end to end (3.6.1: key-management procedures, incl. changing
 * a key at the end of its cryptoperiod). On a cluster of its own, booted
 * with the set's encryption config (secretbox, key `key-2026-11`, material
 * generated per cluster), the documented Kubernetes procedure
 * (kubernetes.io/docs/tasks/administer-cluster/encrypt-data/#rotating-a-decryption-key):
 *   1. add a new key as the SECOND key → restart the apiserver
 *   2. make it the FIRST key → restart
 *   3. rewrite every Secret: `kubectl get secrets -A -o json | kubectl replace -f -`
 *   4. remove the old key → restart
 * Proven at the end, from etcd itself: EVERY key under /registry/secrets/
 * starts `k8s:enc:secretbox:v1:<new key>:` and none names the old key, and
 * every Secret reads back with its original value (sha256 compared; values
 * are never printed). Probes between the steps prove each restart loaded
 * the edited config (a Secret written after step 1 is still under the old
 * key, one written after step 2 is under the new key, and a canary left
 * out of the rewrite under the old key no longer reads after step 4: the
 * running apiserver holds the old key no more).
 *
 * Restarts, not `--encryption-provider-config-automatic-reload`: the set does
 * not enable it, and its controller polls the file once a minute
 * (EncryptionConfigFileChangePollDuration), slower than a restart here.
 *
 * Live mutant (same cluster, no extra restart): the procedure WITHOUT its
 * rewrite step. After step 2 the judge of the final state must be red
 * (Secrets still under the old key, named), and green after the rewrite.
 * Going on to step 4 without the rewrite is worse than a 3.6.1 gap: one
 * Secret left under the removed key keeps the restarted apiserver's /readyz
 * red (informer-sync) until it is gone — the canary shows it every run.
 *
 * The new key's material (32 random bytes, base64) exists only in the
 * cluster's 0600 config file and in this process; only key NAMES reach
 * results, evidence and logs.
 */
const SCENARIO = 'key-rotation';
const nonce = randomBytes(2).toString('hex');
const NS = `key-rotation-${nonce}`;
const SECRETS = ['sentinel', 'db-password', 'api-token', 'tls-key', 'webhook-hmac'].map((n) => `${n}-${nonce}`);
/** Left out of the rewrite on purpose: after the old key's removal the apiserver must no longer be able to read it. */
const CANARY = `retired-key-canary-${nonce}`;
const CANARY_KEY = `/registry/secrets/${NS}/${CANARY}`;

let cluster: BootedCluster | undefined;
let pod = '';
let bootError = '';
const steps: Array<{ step: string; ms: number; restart?: Pick<RestartReport, 'how' | 'ms' | 'phases'> }> = [];
let mutantResult: LiveResult | undefined;
const c = () => cluster!;
const k = () => `kubectl --kubeconfig ${c().kubeconfigPath}`;
const configPath = () => join(c().workDir, 'control-plane', 'encryption-config.yaml');
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  const restart = (out as { restart?: RestartReport } | undefined)?.restart;
  steps.push({ step, ms: Math.round(performance.now() - t0), ...(restart ? { restart: { how: restart.how, ms: Math.round(restart.ms), phases: { newContainerMs: Math.round(restart.phases.newContainerMs), readyMs: Math.round(restart.phases.readyMs) } } } : {}) });
  return out;
}

/** Write the config on the host side of the control plane's mount (0600), check the node sees these bytes, restart the apiserver. */
async function applyKeys(keys: EncryptionKey[], reason: string, readyPath?: string): Promise<{ restart: RestartReport }> {
  const text = withSecretsKeys(readFileSync(configPath(), 'utf8'), keys);
  writeFileSync(configPath(), text, { mode: 0o600 });
  const onNode = (await run('docker', ['exec', controlPlaneNode(c()), 'sha256sum', '/etc/kubernetes/pci/encryption-config.yaml'])).stdout.split(' ')[0];
  if (onNode !== sha(text)) throw new Error(`the control-plane node does not see the edited ${configPath()} at /etc/kubernetes/pci/encryption-config.yaml (mount broken?)`);
  return { restart: await restartApiServer(c(), { reason, readyPath }) };
}

/** Every Secret's digest through the API, or why it could not be read (a Secret whose key was removed fails the whole list). */
async function readDigests(): Promise<{ digests: Map<string, string>; error?: string }> {
  const r = await c().kubectl(['get', 'secrets', '-A', '-o', 'json'], { reject: false, timeoutMs: 60_000 });
  if (r.exitCode !== 0) return { digests: new Map(), error: redactCredentials(r.stderr.trim().split('\n').at(-1) ?? `exit ${r.exitCode}`) };
  return { digests: secretDigests(JSON.parse(r.stdout) as { items: [] }) };
}

async function createSecret(name: string): Promise<void> {
  // Values go on stdin, never on a command line.
  const obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'pci-harness' } }, stringData: { value: randomBytes(24).toString('base64') } };
  await c().kubectl(['create', '-f', '-'], { input: JSON.stringify(obj), timeoutMs: 30_000 });
}

/** The stored prefix of one Secret (a probe written between steps). */
async function probePrefix(name: string): Promise<string> {
  const kvs = await readEtcdPrefix(c(), pod, `/registry/secrets/${NS}/${name}`);
  const kv = kvs.find((x) => x.key === `/registry/secrets/${NS}/${name}`);
  if (!kv) throw new Error(`probe Secret ${NS}/${name} is not in etcd`);
  return storedPrefix(kv.value);
}

async function judgeNow(before: Map<string, string>, provider: string, newKey: string, oldKey: string, except?: string): Promise<{ v: RotationVerdict; kvs: EtcdKv[]; readError?: string }> {
  const kvs = (await readEtcdPrefix(c(), pod, '/registry/secrets/')).filter((kv) => kv.key !== except);
  const after = await readDigests();
  const v = judgeRotation({ kvs, before, after: after.digests, provider, newKey, oldKey });
  if (after.error) v.summary += `; the API could not list Secrets: ${after.error}`;
  return { v, kvs, readError: after.error };
}

beforeAll(async () => {
  try {
    cluster = await bootControlPlaneCluster('keys');
    writeBootReport(`${SCENARIO}-boot`, { bootMs: cluster.bootMs, timings: cluster.timings });
    pod = await etcdPod(cluster);
  } catch (e) {
    bootError = redactCredentials((e as Error).message);
  }
});

afterAll(async () => {
  await destroyOwnCluster(SCENARIO, cluster, steps);
});

describe('key rotation: the documented procedure moves every Secret to the new key, and none is lost (3.6.1)', () => {
  it('add → promote → rewrite → remove: every Secret under the new key in etcd, the old key on none, every value unchanged', async () => {
    if (bootError) throw new Error(`INCONCLUSIVE: ${SCENARIO}: own cluster did not boot (no observation was made): ${bootError}`);
    const t0 = Date.now();
    const original = readFileSync(configPath(), 'utf8');
    const { provider, keys: names } = secretsKeyNames(original);
    const oldKey = secretsKeys(original)[0]!;
    const fresh: EncryptionKey = { name: rotationKeyName(new Date(), nonce), secret: newEncryptionKey() };
    const oldPrefix = encryptionPrefix(provider, oldKey.name);
    const newPrefix = encryptionPrefix(provider, fresh.name);
    const base = {
      lane: 'live' as const,
      check: 'live.encryption.rotation' as const,
      requirement: '3.6.1',
      scenario: SCENARIO,
      adversary: 'insider holding the retired key (or an etcd backup) after the rotation',
      action: `rotate Secrets' ${provider} key ${oldKey.name} → ${fresh.name} by the documented procedure (add second, restart, promote, restart, rewrite all, remove old, restart); read every key under /registry/secrets/ with etcdctl`,
      predicted: 'not-logged' as const,
      layer: { kind: 'encryption' as const, names: [`EncryptionConfiguration ${provider} keys [${names.join(', ')}] → [${fresh.name}]`] },
      object: `etcd /registry/secrets/ on ${c().name}`,
      replay: [
        `# new key: head -c 32 /dev/urandom | base64; the config is ${configPath()} (the node's /etc/kubernetes/pci/encryption-config.yaml)`,
        `# restart after each edit (the kubelet starts it again; or bump an annotation in ${controlPlaneNode(c())}:/etc/kubernetes/manifests/kube-apiserver.yaml first, for a new pod): docker exec ${controlPlaneNode(c())} crictl stop --timeout 2 $(docker exec ${controlPlaneNode(c())} crictl ps --name kube-apiserver -q)`,
        `${k()} get secrets -A -o json | ${k()} replace -f -`,
        etcdReplay(k(), pod, '/registry/secrets/', newPrefix.length),
      ].join('\n'),
    };
    const fail = (message: string, evidence: string): LiveResult => ({ ...base, status: 'inconclusive', observed: 'check-failed', message: `instrument failed: ${message}`, evidence, ms: Date.now() - t0 });

    let before: Map<string, string>;
    let probes: { afterAdd: string; afterPromote: string };
    try {
      before = await timed('create Secrets', async () => {
        await c().kubectl(['create', 'namespace', NS]);
        for (const s of SECRETS) await createSecret(s);
        const d = await readDigests();
        if (d.error) throw new Error(`cannot list Secrets before the rotation: ${d.error}`);
        const kvs = await readEtcdPrefix(c(), pod, '/registry/secrets/');
        const notOld = kvs.filter((kv) => storedPrefix(kv.value) !== oldPrefix);
        if (notOld.length) throw new Error(`before the rotation, ${notOld.length} Secrets are not under ${oldPrefix}: ${notOld.map((x) => x.key).join(', ')}`);
        return d.digests;
      });
      await timed('1 add new key second + restart', () => applyKeys([oldKey, fresh], `key rotation: add ${fresh.name} second`));
      await createSecret(`probe-add-${nonce}`);
      await createSecret(CANARY);
      const afterAdd = await probePrefix(`probe-add-${nonce}`);
      if ((await probePrefix(CANARY)) !== oldPrefix) throw new Error(`the retired-key canary ${NS}/${CANARY} is not under ${oldPrefix}`);
      await timed('2 new key first + restart', () => applyKeys([fresh, oldKey], `key rotation: ${fresh.name} first`));
      await createSecret(`probe-promote-${nonce}`);
      const afterPromote = await probePrefix(`probe-promote-${nonce}`);
      probes = { afterAdd, afterPromote };
      // The probes are Secrets too: the end state must keep them, unchanged.
      const d = await readDigests();
      for (const p of [`probe-add-${nonce}`, `probe-promote-${nonce}`]) before.set(`${NS}/${p}`, d.digests.get(`${NS}/${p}`) ?? `(${p} unreadable after step 2${d.error ? `: ${d.error}` : ''})`);
    } catch (e) {
      const msg = redactCredentials((e as Error).message);
      const r = fail(msg, msg);
      recordLiveResults([r]);
      throw new Error(`INCONCLUSIVE: ${explain(r)}`);
    }
    // Each restart loaded the config it was given: the first key encrypts new writes.
    expect(probes.afterAdd, `after step 1 the OLD key must still encrypt writes (${oldPrefix})`).toBe(oldPrefix);
    expect(probes.afterPromote, `after step 2 the NEW key must encrypt writes (${newPrefix})`).toBe(newPrefix);

    // Live mutant: stop here, without the rewrite: the final judgement must be red.
    const mutantStart = Date.now();
    const weakened = await judgeNow(before, provider, fresh.name, oldKey.name);
    await timed('3 rewrite every Secret', async () => {
      const r = await pollUntil(
        async () => {
          const list = JSON.parse((await c().kubectl(['get', 'secrets', '-A', '-o', 'json'], { timeoutMs: 60_000 })).stdout) as { items: Array<{ metadata: { namespace: string; name: string } }> };
          list.items = list.items.filter((x) => !(x.metadata.namespace === NS && x.metadata.name === CANARY));
          return c().kubectl(['replace', '-f', '-'], { input: JSON.stringify(list), reject: false, timeoutMs: 120_000 });
        },
        (x) => x.exitCode === 0,
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      // A conflicting write makes `replace` fail: the documented advice is to retry, which pollUntil did.
      if (!r.settled) throw new Error(`kubectl replace of every Secret kept failing: ${redactCredentials(r.value.stderr.trim().split('\n').at(-1) ?? '')}`);
    });
    const restored = await judgeNow(before, provider, fresh.name, oldKey.name, CANARY_KEY);
    const killed = !weakened.v.ok && weakened.v.underOldKey.length > 0;
    const verdict = killed && restored.v.ok ? 'KILLED' : killed ? 'KILLED, NOT RESTORED' : 'SURVIVED';
    mutantResult = {
      lane: 'live',
      check: 'live.mutant',
      requirement: '3.6.1',
      scenario: 'mutant.rotation-skips-rewrite',
      adversary: 'live weakening of the rotation procedure',
      action: `key rotation ${oldKey.name} → ${fresh.name} without step 3 (no \`kubectl replace\` of every Secret), judged as the final state is`,
      predicted: 'not-logged',
      observed: killed ? 'logged' : 'not-logged',
      layer: base.layer,
      object: base.object,
      status: verdict === 'KILLED' ? 'pass' : 'fail',
      message: `${verdict}: rotation-skips-rewrite [3.6.1] — weakened: ${weakened.v.ok ? 'still green' : 'RED'} (${weakened.v.underOldKey.length} Secrets still under ${oldKey.name}); restored by the rewrite: ${restored.v.ok ? 'green again' : 'NOT green'}`,
      evidence: `weakened: ${weakened.v.summary}; prefixes ${prefixCounts(weakened.kvs)}; still under the old key: ${weakened.v.underOldKey.join(', ')}\nrestored: ${restored.v.summary}; prefixes ${prefixCounts(restored.kvs)}`,
      replay: `${base.replay.split('\n').slice(0, 2).join('\n')}\n# skip: ${k()} get secrets -A -o json | ${k()} replace -f -\n${etcdReplay(k(), pod, '/registry/secrets/', newPrefix.length)}`,
      ...(verdict === 'KILLED' ? {} : { finding: `live mutant rotation-skips-rewrite: ${verdict}` }),
      ms: Date.now() - mutantStart,
    };
    recordLiveResults([mutantResult]);

    let final: Awaited<ReturnType<typeof judgeNow>>;
    let retired: { readable: boolean; detail: string };
    try {
      // A Secret only the removed key opens keeps the apiserver's informers from syncing: /readyz stays red
      // on informer-sync (measured) until it is gone. So: ready but for that check, probe, remove it, then fully ready.
      await timed('4 remove old key + restart', () => applyKeys([fresh], `key rotation: remove ${oldKey.name}`, '/readyz?exclude=informer-sync'));
      // The old key is gone from the RUNNING apiserver: what only it can open no longer reads.
      const g = await c().kubectl(['get', 'secret', CANARY, '-n', NS, '-o', 'name'], { reject: false, timeoutMs: 30_000 });
      const blocked = await c().kubectl(['get', '--raw', '/readyz?verbose'], { reject: false, timeoutMs: 10_000 });
      const informer = /\[-\]informer-sync failed/.test(`${blocked.stdout}${blocked.stderr}`) ? '/readyz: informer-sync failed while it existed' : `/readyz: ${blocked.exitCode === 0 ? 'ok' : 'not ok'} while it existed`;
      retired = { readable: g.exitCode === 0, detail: g.exitCode === 0 ? `GET ${NS}/${CANARY} still SUCCEEDS: the apiserver still holds ${oldKey.name}` : `GET ${NS}/${CANARY} (left under ${oldKey.name}) → ${redactCredentials(g.stderr.trim().split('\n').at(-1) ?? '').slice(0, 300)}; ${informer}` };
      // It cannot be read, so not deleted through the API either: remove it from etcd, then judge everything.
      await c().kubectl(etcdctlArgs(pod, 'del', CANARY_KEY), { timeoutMs: 30_000 });
      await timed('apiserver fully ready after the canary is gone', async () => {
        const r = await pollUntil(() => c().kubectl(['get', '--raw', '/readyz'], { reject: false, timeoutMs: 10_000 }), (x) => x.exitCode === 0, { timeoutMs: 120_000, intervalMs: 1000 });
        if (!r.settled) throw new Error(`/readyz still not ok 120 s after the undecryptable canary was removed from etcd: ${failingChecks(r.value.stderr)}`);
      });
      final = await timed('judge', () => judgeNow(before, provider, fresh.name, oldKey.name));
    } catch (e) {
      const msg = redactCredentials((e as Error).message);
      const r = fail(msg, msg);
      recordLiveResults([r]);
      throw new Error(`INCONCLUSIVE: ${explain(r)}`);
    }
    const config = readFileSync(configPath(), 'utf8');
    const configClean = !config.includes(oldKey.name) && !config.includes(oldKey.secret);
    const ok = final.v.ok && configClean && !final.readError && !retired.readable;
    const result: LiveResult = {
      ...base,
      status: ok ? 'pass' : 'fail',
      observed: ok ? 'not-logged' : 'logged',
      message: ok
        ? `rotated ${oldKey.name} → ${fresh.name}: all ${final.kvs.length} Secrets in etcd begin ${newPrefix}, none names ${oldKey.name}, all ${before.size} read back unchanged; the config holds only ${fresh.name}`
        : `rotation ${oldKey.name} → ${fresh.name} incomplete: ${final.v.summary}${configClean ? '' : `; the config still holds the old key ${oldKey.name}`}${retired.readable ? `; ${retired.detail}` : ''}`,
      evidence: [
        `final: ${final.v.summary}; prefixes ${prefixCounts(final.kvs)}; keys: ${final.kvs.map((x) => x.key).join(', ')}`,
        `probes: written after step 1 → ${JSON.stringify(probes.afterAdd)}, after step 2 → ${JSON.stringify(probes.afterPromote)}; after step 4: ${retired.detail}`,
        `steps: ${steps.map((s) => `${s.step} ${(s.ms / 1000).toFixed(1)} s${s.restart ? ` (restart by ${s.restart.how}: new apiserver ${(s.restart.phases.newContainerMs / 1000).toFixed(1)} s, ready +${(s.restart.phases.readyMs / 1000).toFixed(1)} s)` : ''}`).join('; ')}`,
      ].join('\n'),
      ...(ok ? {} : { finding: `Secrets not all under the new key after the documented rotation (3.6.1): ${final.v.notUnderNewKey.map((x) => `${x.key} (${x.prefix})`).join(', ') || final.v.summary}` }),
      ms: Date.now() - t0,
    };
    recordLiveResults([result]);
    process.stdout.write(`${mutantResult.message}\n`);
    expect(result.status, explain(result)).toBe('pass');
  });

  it('live mutant: the rotation without its rewrite step leaves Secrets under the old key → red naming 3.6.1, green after the rewrite (KILLED)', () => {
    if (bootError) throw new Error(`INCONCLUSIVE: ${SCENARIO}: own cluster did not boot: ${bootError}`);
    expect(mutantResult, 'the rotation procedure stopped before the mutant was judged').toBeDefined();
    expect(mutantResult!.status, explain(mutantResult!)).toBe('pass');
  });
});
