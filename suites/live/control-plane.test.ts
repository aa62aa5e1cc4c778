import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../harness/cluster/exec.ts';
import type { Cluster } from '../../harness/cluster/provider.ts';
import { sharedCluster } from './support/shared.ts';

/**
 * The control plane is wired as manifests/kind/pci-calico.yaml says: the audit
 * policy writes the audit log the harness mounts (guide defects 1–4), and
 * Secrets are encrypted in etcd with the set's provider and key name (defect 7).
 * Observed on the real apiserver and etcd, not read from flags.
 */
interface AuditEvent {
  level: string;
  verb: string;
  requestURI: string;
  user?: { username?: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string };
  responseStatus?: { code?: number };
}

const NS = 'cde-processing';
const nonce = randomBytes(4).toString('hex');
const secretName = `audit-sentinel-${nonce}`;
// A random value no log may ever contain, in clear or in base64 (defect 1).
const sentinel = `pci-sentinel-${randomBytes(12).toString('hex')}`;

let cluster: Cluster;
let auditDir: string;

function auditEvents(): AuditEvent[] {
  if (!existsSync(auditDir)) return [];
  return readdirSync(auditDir)
    .filter((f) => f.startsWith('audit'))
    .flatMap((f) => readFileSync(join(auditDir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

/** Audit events are flushed in batches: poll until one matches (or fail with what was seen). */
async function waitForEvent(what: string, match: (e: AuditEvent) => boolean, timeoutMs = 30_000): Promise<AuditEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = auditEvents().find(match);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no audit event for ${what} within ${timeoutMs / 1000}s in ${auditDir}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** kubectl against the same apiserver WITHOUT the admin credentials: a bad token, or none at all. */
async function kubectlAs(credentials: string[], args: string[]) {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const server = kc.getCurrentCluster()!.server;
  // Empty stdin: with no credentials kubectl would otherwise prompt for a username and wait forever.
  return run(cluster.images.kubectlBinary, ['--kubeconfig', '/dev/null', '--server', server, '--insecure-skip-tls-verify', ...credentials, ...args], { reject: false, input: '', timeoutMs: 30_000 });
}

/** GET with no credentials at all; the test cluster's self-signed serving cert is not verified (loopback only). */
function anonymousGet(path: string): Promise<number> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const url = new URL(path, kc.getCurrentCluster()!.server);
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { rejectUnauthorized: false, timeout: 15_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  cluster = sharedCluster();
  auditDir = join(cluster.workDir, 'audit');
  await cluster.kubectl(['create', 'secret', 'generic', secretName, '-n', NS, `--from-literal=token=${sentinel}`]);
  await cluster.kubectl(['get', 'secret', secretName, '-n', NS, '-o', 'name']);
  await cluster.kubectl(['get', 'secrets', '-n', NS, '-o', 'name']);
});

describe('audit log: who did what, and never a secret value', () => {
  it('a secret read is audited at Metadata with the user identity (10.2.1.1)', async () => {
    const e = await waitForEvent('get secret', (x) => x.verb === 'get' && x.objectRef?.resource === 'secrets' && x.objectRef.name === secretName);
    expect(e.level).toBe('Metadata');
    expect(e.user?.username).toBe('kubernetes-admin');
    expect(e.objectRef?.namespace).toBe(NS);
  });

  it('neither the secret value nor its base64 appears anywhere in the audit log (defect 1)', async () => {
    await waitForEvent('list secrets', (x) => x.verb === 'list' && x.objectRef?.resource === 'secrets' && x.objectRef.namespace === NS);
    const all = readdirSync(auditDir).map((f) => readFileSync(join(auditDir, f), 'utf8')).join('\n');
    expect(all.includes(sentinel)).toBe(false);
    expect(all.includes(Buffer.from(sentinel).toString('base64'))).toBe(false);
  });

  it('a bad bearer token is audited as a 401 with no user (defect 2, 10.2.1.4)', async () => {
    const r = await kubectlAs(['--token', `bogus-${nonce}`], ['get', 'namespace', `bad-token-${nonce}`]);
    expect(r.stderr).toMatch(/Unauthorized|must be logged in/);
    const e = await waitForEvent('401', (x) => x.responseStatus?.code === 401 && x.requestURI.includes(`bad-token-${nonce}`));
    expect(e.user?.username ?? '').toBe('');
    expect(e.level).not.toBe('None');
  });

  it('no credentials at all is audited as a 403 for system:anonymous (defect 2, 10.2.1.4)', async () => {
    // A plain HTTPS request: kubectl without credentials prompts for a username instead of sending none.
    const code = await anonymousGet(`/api/v1/namespaces/anonymous-${nonce}`);
    expect(code).toBe(403);
    const e = await waitForEvent('403 anonymous', (x) => x.responseStatus?.code === 403 && x.requestURI.includes(`anonymous-${nonce}`));
    expect(e.user?.username).toBe('system:anonymous');
    expect(e.user?.groups).toContain('system:unauthenticated');
  });

  it('exec into a CDE pod is audited at Request whatever the verb (WebSocket exec is `get`, defect 4, 10.2.1.2)', async () => {
    const pod = (await cluster.kubectl(['get', 'pods', '-n', 'cde-frontend', '-l', 'app=payment-api', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    // The server image has no shell: the exec itself fails in the container, but the request is made and must be audited.
    await cluster.kubectl(['exec', '-n', 'cde-frontend', pod, '--', `/no-such-binary-${nonce}`], { reject: false });
    const e = await waitForEvent('exec', (x) => x.objectRef?.subresource === 'exec' && x.objectRef.name === pod && x.requestURI.includes(`no-such-binary-${nonce}`));
    expect(e.level).toBe('Request');
    expect(['get', 'create']).toContain(e.verb);
  });

  it('the apiserver decoded the audit policy strictly: no "lenient decoding" fallback (defect 3)', async () => {
    const pod = (await cluster.kubectl(['get', 'pods', '-n', 'kube-system', '-l', 'component=kube-apiserver', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    const logs = (await cluster.kubectl(['logs', '-n', 'kube-system', pod])).stdout;
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toMatch(/falling back to lenient decoding/);
  });
});

describe('encryption at rest, read from etcd itself (defect 7, 8.3.2 / 3.6.1)', () => {
  it('the secret is stored as k8s:enc:secretbox:v1:key-2026-11: ciphertext, without the plaintext', async () => {
    const etcd = (await cluster.kubectl(['get', 'pods', '-n', 'kube-system', '-l', 'component=etcd', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    const pki = '/etc/kubernetes/pki/etcd';
    const r = await cluster.kubectl([
      'exec', '-n', 'kube-system', etcd, '--', 'etcdctl', '--endpoints=https://127.0.0.1:2379',
      `--cacert=${pki}/ca.crt`, `--cert=${pki}/server.crt`, `--key=${pki}/server.key`,
      'get', `/registry/secrets/${NS}/${secretName}`, '--print-value-only',
    ]);
    expect(r.stdout.startsWith('k8s:enc:secretbox:v1:key-2026-11:')).toBe(true);
    expect(r.stdout.includes(sentinel)).toBe(false);
    // And the API still serves it decrypted: encryption is transparent to authorized readers.
    const back = (await cluster.kubectl(['get', 'secret', secretName, '-n', NS, '-o', 'jsonpath={.data.token}'])).stdout;
    expect(Buffer.from(back, 'base64').toString() === sentinel).toBe(true);
  });
});
