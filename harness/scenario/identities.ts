import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { run, type RunOptions, type RunResult } from '../cluster/exec.ts';
import type { Cluster } from '../cluster/provider.ts';
import { pollUntil } from './poll.ts';

/**
 * An identity the API server authenticates by itself: a client certificate
 * for `user` in `groups` (the certificate's O= fields), issued by the
 * cluster's own CA through the CertificateSigningRequest API
 * (signer kubernetes.io/kube-apiserver-client, approved with the admin
 * credentials, one hour). Unlike `--as` impersonation, the audit log then
 * names this user as the requester, and the audit policy is evaluated for
 * it — what a compromised CI pipeline with its own credentials looks like.
 *
 * The private key lives in a 0700 temp dir for the life of the identity and
 * is never logged; dispose removes it and the CSR object.
 */
export interface ActingIdentity extends AsyncDisposable {
  user: string;
  groups: string[];
  kubectl(args: string[], opts?: RunOptions): Promise<RunResult>;
  /**
   * The same request under the admin credentials impersonating this
   * identity (same authorization decision; the certificate is gone after the
   * run), for replay commands.
   */
  replay(args: string): string;
}

interface Kubeconfig {
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string } }>;
}

/** The openssl subject for a user and groups: CN=user, one O= per group (escaped per RFC 4514 where openssl needs it). */
export function certificateSubject(user: string, groups: readonly string[]): string {
  const esc = (v: string) => v.replace(/([/\\=+,])/g, '\\$1');
  return `/CN=${esc(user)}${groups.map((g) => `/O=${esc(g)}`).join('')}`;
}

export async function clientCertIdentity(cluster: Cluster, user: string, groups: readonly string[]): Promise<ActingIdentity> {
  const dir = mkdtempSync(join(tmpdir(), 'pci-identity-'));
  const csrName = `pci-harness-${user.replace(/[^a-z0-9-]/g, '-')}-${randomBytes(3).toString('hex')}`.slice(0, 63);
  const cleanup = async () => {
    rmSync(dir, { recursive: true, force: true });
    await cluster.kubectl(['delete', 'csr', csrName, '--ignore-not-found', '--wait=false'], { reject: false, timeoutMs: 30_000 });
  };
  try {
    const key = join(dir, 'key.pem');
    const csr = join(dir, 'csr.pem');
    // A missing openssl is the environment's, not the control's: say what to install.
    await run('openssl', ['version']).catch(() => {
      throw new Error('openssl is needed to request the client certificate (apt-get install openssl)');
    });
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', certificateSubject(user, groups)]);
    const request = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: csrName, labels: { 'app.kubernetes.io/managed-by': 'pci-harness' } },
      spec: { request: readFileSync(csr).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', expirationSeconds: 3600, usages: ['client auth'] },
    };
    await cluster.kubectl(['create', '-f', '-'], { input: stringify(request) });
    await cluster.kubectl(['certificate', 'approve', csrName]);
    const issued = await pollUntil(
      async () => (await cluster.kubectl(['get', 'csr', csrName, '-o', 'jsonpath={.status.certificate}'], { reject: false })).stdout.trim(),
      (v) => v.length > 0,
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    if (!issued.settled) throw new Error(`the cluster never issued a certificate for CSR ${csrName} (is the kube-controller-manager signing kube-apiserver-client certificates?)`);
    const admin = parse(readFileSync(cluster.kubeconfigPath, 'utf8')) as Kubeconfig;
    const target = admin.clusters[0];
    if (!target) throw new Error(`${cluster.kubeconfigPath} names no cluster`);
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [target],
        users: [{ name: user, user: { 'client-certificate-data': issued.value, 'client-key-data': readFileSync(key).toString('base64') } }],
        contexts: [{ name: user, context: { cluster: target.name, user } }],
        'current-context': user,
      }),
      { mode: 0o600 },
    );
    rmSync(key);
    const asArgs = [`--as=${user}`, ...groups.map((g) => `--as-group=${g}`)];
    return {
      user,
      groups: [...groups],
      kubectl: (args, opts) => run(cluster.images.kubectlBinary, ['--kubeconfig', kubeconfigPath, ...args], opts),
      replay: (args) => `kubectl --kubeconfig ${cluster.kubeconfigPath} ${asArgs.join(' ')} ${args}`,
      [Symbol.asyncDispose]: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * A tenant outside the CDE: a team that may run pods in `namespaces` (and
 * nothing else), with its own client certificate. Its Role and RoleBinding
 * are test set-up made with the admin credentials, labelled managed-by
 * pci-harness, and removed on dispose with the certificate.
 */
export async function tenantIdentity(cluster: Cluster, user: string, namespaces: readonly string[]): Promise<ActingIdentity> {
  const name = `pci-harness-tenant-${randomBytes(2).toString('hex')}`;
  const labels = { 'app.kubernetes.io/managed-by': 'pci-harness' };
  const docs = namespaces.flatMap((ns) => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: ns, labels }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'create', 'delete'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: ns, labels }, subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name } },
  ]);
  const input = docs.map((d) => stringify(d)).join('---\n');
  const removeRbac = async () => void (await cluster.kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], { input, reject: false, timeoutMs: 30_000 }));
  await cluster.kubectl(['create', '-f', '-'], { input });
  try {
    const id = await clientCertIdentity(cluster, user, []);
    return {
      ...id,
      [Symbol.asyncDispose]: async () => {
        await id[Symbol.asyncDispose]();
        await removeRbac();
      },
    };
  } catch (e) {
    await removeRbac();
    throw e;
  }
}
