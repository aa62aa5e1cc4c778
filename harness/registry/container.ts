import { randomBytes } from 'node:crypto';
import { run } from '../cluster/exec.ts';
import { REGISTRY_ALIAS, REGISTRY_CONTAINER_PORT } from './names.ts';

/**
 * The registry container beside a kind cluster: on the cluster's own Docker
 * network under the alias REGISTRY_ALIAS, its port mapped to the host (where
 * `docker push` and the scenario's OCI client reach it). Labelled with the
 * cluster's name, so the cluster's deletion (and the crash sweep, and
 * `pci-harness down`) removes it with the nodes: harness/cluster/kind/docker.ts
 * removeClusterResources removes every container labelled
 * pci-harness.dev/cluster=<name>.
 */
export const REGISTRY_IMAGE = 'localhost/pci-harness/registry:v1';
export const SIDECAR_CLUSTER_LABEL = 'pci-harness.dev/cluster';
const ROLE_LABEL = 'pci-harness.dev/role';
const ROLE = 'registry';

/**
 * Debian's /etc/docker/registry/config.yml turns on htpasswd auth; the live
 * lane's registry is anonymous (reachable only on the cluster's network and
 * the host). The rest as Debian's: filesystem storage, deletes allowed.
 */
const CONFIG_PATH = '/etc/pci-harness-registry.yml';
export function registryConfig(httpSecret: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  cache:',
    '    blobdescriptor: inmemory',
    '  filesystem:',
    '    rootdirectory: /var/lib/docker-registry',
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: :${REGISTRY_CONTAINER_PORT}`,
    `  secret: ${httpSecret}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    '',
  ].join('\n');
}

export interface RunningRegistry {
  container: string;
  network: string;
  /** http://127.0.0.1:<mapped port>, for the host side. */
  hostUrl: string;
  hostPort: number;
  dispose(): Promise<void>;
}

export async function startRegistry(cluster: string, network = cluster): Promise<RunningRegistry> {
  // No reaper container (its image cannot be pulled here); the cluster label and dispose remove ours.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const name = `${cluster}-registry`;
  // A leftover of an interrupted boot of the same name would hold the name and the alias.
  await run('docker', ['rm', '-f', '-v', name], { reject: false });
  const started = await new GenericContainer(REGISTRY_IMAGE)
    .withName(name)
    .withNetworkMode(network)
    .withNetworkAliases(REGISTRY_ALIAS)
    .withLabels({ [SIDECAR_CLUSTER_LABEL]: cluster, [ROLE_LABEL]: ROLE })
    .withCopyContentToContainer([{ content: registryConfig(randomBytes(16).toString('hex')), target: CONFIG_PATH, mode: 0o644 }])
    .withEntrypoint(['/usr/bin/docker-registry'])
    .withCommand(['serve', CONFIG_PATH])
    .withExposedPorts(REGISTRY_CONTAINER_PORT)
    .withWaitStrategy(Wait.forHttp('/v2/', REGISTRY_CONTAINER_PORT).forStatusCode(200))
    .withStartupTimeout(60_000)
    .withPullPolicy({ shouldPull: () => false })
    .start();
  const hostPort = started.getMappedPort(REGISTRY_CONTAINER_PORT);
  return {
    container: name,
    network,
    hostPort,
    hostUrl: `http://127.0.0.1:${hostPort}`,
    dispose: async () => {
      await started.stop({ remove: true, removeVolumes: true }).catch(() => undefined);
    },
  };
}

/** The running registry of a cluster (booted by another process, e.g. `pci-harness up`), or undefined. */
export async function findRegistry(cluster: string): Promise<Omit<RunningRegistry, 'dispose'> | undefined> {
  const id = (await run('docker', ['ps', '-q', '--filter', `label=${SIDECAR_CLUSTER_LABEL}=${cluster}`, '--filter', `label=${ROLE_LABEL}=${ROLE}`])).stdout.trim().split('\n')[0];
  if (!id) return undefined;
  const r = await run('docker', ['inspect', '--format', `{{.Name}} {{(index (index .NetworkSettings.Ports "${REGISTRY_CONTAINER_PORT}/tcp") 0).HostPort}}{{range $k, $v := .NetworkSettings.Networks}} {{$k}}{{end}}`, id]);
  const [name, port, ...networks] = r.stdout.trim().split(' ');
  const hostPort = Number(port);
  // testcontainers attaches it to Docker's default bridge as well; the alias lives on the cluster's network (named after the cluster).
  const network = networks.find((n) => n === cluster);
  if (!name || !Number.isInteger(hostPort) || !network) throw new Error(`registry container ${id}: could not read its name, mapped port and the network ${cluster} from docker inspect: ${r.stdout}`);
  return { container: name.replace(/^\//, ''), network, hostPort, hostUrl: `http://127.0.0.1:${hostPort}` };
}
