import { randomBytes } from 'node:crypto';
import { run } from '../cluster/exec.ts';
import { SIDECAR_CLUSTER_LABEL } from '../registry/container.ts';
import { AUDIT_STORE_ALIAS, AUDIT_STORE_PORT, MIN_RETENTION_DAYS } from './names.ts';
import { S3Client } from './s3.ts';
import type { Credentials } from './sigv4.ts';

/**
 * The audit store beside a kind cluster: a stand-in for the user's S3
 * bucket with Object Lock (MinIO, built here: scripts/images/audit-store),
 * on the cluster's own Docker network under AUDIT_STORE_ALIAS (what the
 * shipper in the set is configured with), its S3 port mapped to the host for
 * the harness. Labelled with the cluster's name like the registry, so the
 * cluster's deletion (and the crash sweep) removes it with the nodes.
 *
 * The root credentials are made for this run: they travel only in the
 * container's environment (set from this process's, never on a command
 * line), in the Secret the shipper reads, and back through `docker inspect`
 * for the harness; they are never logged or written to evidence.
 */
export const AUDIT_STORE_IMAGE = 'localhost/pci-harness/audit-store:minio-20260212';
const ROLE_LABEL = 'pci-harness.dev/role';
const ROLE = 'audit-store';

export interface RunningStore {
  container: string;
  /** http://127.0.0.1:<mapped port>. */
  hostUrl: string;
  credentials: Credentials;
  client: S3Client;
}

export async function startAuditStore(cluster: string, network = cluster): Promise<RunningStore & { dispose(): Promise<void> }> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const present = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', AUDIT_STORE_IMAGE], { reject: false });
  if (present.exitCode !== 0) throw new Error(`the audit store image ${AUDIT_STORE_IMAGE} is not built: run \`npx pci-harness images build audit-store\``);
  const name = `${cluster}-audit-store`;
  await run('docker', ['rm', '-f', '-v', name], { reject: false });
  const credentials = { accessKeyId: `pci-${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(24).toString('base64url') };
  const started = await new GenericContainer(AUDIT_STORE_IMAGE)
    .withName(name)
    .withNetworkMode(network)
    .withNetworkAliases(AUDIT_STORE_ALIAS)
    .withLabels({ [SIDECAR_CLUSTER_LABEL]: cluster, [ROLE_LABEL]: ROLE })
    .withEnvironment({ MINIO_ROOT_USER: credentials.accessKeyId, MINIO_ROOT_PASSWORD: credentials.secretAccessKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' })
    .withExposedPorts(AUDIT_STORE_PORT)
    .withWaitStrategy(Wait.forHttp('/minio/health/ready', AUDIT_STORE_PORT).forStatusCode(200))
    .withStartupTimeout(60_000)
    .withPullPolicy({ shouldPull: () => false })
    .start();
  const hostUrl = `http://127.0.0.1:${started.getMappedPort(AUDIT_STORE_PORT)}`;
  return {
    container: name,
    hostUrl,
    credentials,
    client: new S3Client(hostUrl, credentials),
    dispose: async () => {
      await started.stop({ remove: true, removeVolumes: true }).catch(() => undefined);
    },
  };
}

/** The running store of a cluster (started by another process, e.g. `pci-harness up`), or undefined. */
export async function findAuditStore(cluster: string): Promise<RunningStore | undefined> {
  const id = (await run('docker', ['ps', '-q', '--filter', `label=${SIDECAR_CLUSTER_LABEL}=${cluster}`, '--filter', `label=${ROLE_LABEL}=${ROLE}`])).stdout.trim().split('\n')[0];
  if (!id) return undefined;
  const r = await run('docker', ['inspect', '--format', `{{.Name}} {{(index (index .NetworkSettings.Ports "${AUDIT_STORE_PORT}/tcp") 0).HostPort}}`, id]);
  const [name, port] = r.stdout.trim().split(' ');
  const env = JSON.parse((await run('docker', ['inspect', '--format', '{{json .Config.Env}}', id])).stdout) as string[];
  const val = (k: string) => env.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1);
  const accessKeyId = val('MINIO_ROOT_USER');
  const secretAccessKey = val('MINIO_ROOT_PASSWORD');
  if (!name || !port || !accessKeyId || !secretAccessKey) throw new Error(`audit store container ${id}: could not read its name, mapped port and credentials from docker inspect`);
  const hostUrl = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId, secretAccessKey };
  return { container: name.replace(/^\//, ''), hostUrl, credentials, client: new S3Client(hostUrl, credentials) };
}

/**
 * The trail bucket: Object Lock on (at creation, the only time it can be),
 * default retention COMPLIANCE for `days` (>= 365 for 10.5.1). An existing
 * bucket is kept (a re-run of the step), its lock configuration re-set.
 */
export async function createTrailBucket(client: S3Client, bucket: string, days = MIN_RETENTION_DAYS): Promise<void> {
  const made = await client.createLockedBucket(bucket);
  if (made.status !== 200 && made.code !== 'BucketAlreadyOwnedByYou') throw new Error(`audit store: creating bucket ${bucket} with Object Lock: HTTP ${made.status} ${made.code ?? ''}`);
  const lock = await client.putLockConfiguration(bucket, 'COMPLIANCE', days);
  if (lock.status !== 200) throw new Error(`audit store: default retention COMPLIANCE ${days} days on ${bucket}: HTTP ${lock.status} ${lock.code ?? ''}`);
}
