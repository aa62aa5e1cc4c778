import { run } from '../exec.ts';
import { CLUSTER_PREFIX } from '../provider.ts';

/**
 * Docker-level view of what the harness made, so cleanup never depends on kind
 * having finished (an interrupted `kind create` leaves containers kind itself
 * may not list). Labels:
 *   io.x-k8s.kind.cluster=<name>   set by kind on every node container
 *                                   (kind pkg/cluster/internal/providers/docker/constants.go)
 *   pci-harness.dev/cluster=<name> set by us on the per-cluster docker network
 */
export const KIND_CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
const HARNESS_NETWORK_LABEL = 'pci-harness.dev/cluster';

async function lines(args: string[]): Promise<string[]> {
  const { stdout } = await run('docker', args);
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Cluster name → container IDs, for every container carrying a pci-* kind label. */
export async function pciContainers(): Promise<Map<string, string[]>> {
  const rows = await lines(['ps', '-a', '--filter', `label=${KIND_CLUSTER_LABEL}`, '--format', `{{.ID}} {{.Label "${KIND_CLUSTER_LABEL}"}}`]);
  const out = new Map<string, string[]>();
  for (const row of rows) {
    const [id, name] = row.split(' ');
    if (!id || !name?.startsWith(CLUSTER_PREFIX)) continue;
    out.set(name, [...(out.get(name) ?? []), id]);
  }
  return out;
}

export async function containersOf(cluster: string): Promise<string[]> {
  return lines(['ps', '-a', '-q', '--filter', `label=${KIND_CLUSTER_LABEL}=${cluster}`]);
}

/** Node container names of a cluster (kind names them <cluster>-control-plane, <cluster>-worker...). */
export async function nodeNamesOf(cluster: string): Promise<string[]> {
  return (await lines(['ps', '--filter', `label=${KIND_CLUSTER_LABEL}=${cluster}`, '--format', '{{.Names}}'])).sort();
}

/** Named volumes mounted by containers (kind's anonymous /var volume): removed explicitly if `rm -v` missed them. */
export async function volumesOf(containerIds: string[]): Promise<string[]> {
  if (containerIds.length === 0) return [];
  const out = await lines(['inspect', '--format', '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}', ...containerIds]).catch(() => []);
  return out.flatMap((l) => l.split(' ')).filter(Boolean);
}

export async function pciNetworks(): Promise<Map<string, string>> {
  const rows = await lines(['network', 'ls', '--filter', `label=${HARNESS_NETWORK_LABEL}`, '--format', `{{.Name}} {{.Label "${HARNESS_NETWORK_LABEL}"}}`]);
  const out = new Map<string, string>();
  for (const row of rows) {
    const [net, cluster] = row.split(' ');
    if (net && cluster?.startsWith(CLUSTER_PREFIX)) out.set(net, cluster);
  }
  return out;
}

async function existingVolumes(names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const all = new Set(await lines(['volume', 'ls', '-q']));
  return names.filter((n) => all.has(n));
}

/** kind's network options (pkg/cluster/internal/providers/docker/network.go createNetwork), plus our label. */
export async function ensureNetwork(network: string, cluster: string): Promise<void> {
  const exists = await run('docker', ['network', 'inspect', network], { reject: false });
  if (exists.exitCode === 0) return;
  const mtu = (await run('docker', ['network', 'inspect', 'bridge', '-f', '{{ index .Options "com.docker.network.driver.mtu" }}'], { reject: false })).stdout.trim();
  const args = ['network', 'create', '-d=bridge', '-o', 'com.docker.network.bridge.enable_ip_masquerade=true', '--label', `${HARNESS_NETWORK_LABEL}=${cluster}`];
  if (/^\d+$/.test(mtu) && mtu !== '0') args.push('-o', `com.docker.network.driver.mtu=${mtu}`);
  await run('docker', [...args, network]);
}

/** Containers the harness started beside a cluster (its registry, outside-world hosts): labelled pci-harness.dev/cluster=<name>. */
async function sidecarsOf(cluster: string): Promise<string[]> {
  return lines(['ps', '-a', '-q', '--filter', `label=${HARNESS_NETWORK_LABEL}=${cluster}`]).catch(() => []);
}

/** Remove containers (with their anonymous volumes; sidecars too, they hold the network), then any volume they had left, then the cluster's network. */
export async function removeClusterResources(cluster: string): Promise<void> {
  const ids = [...(await containersOf(cluster)), ...(await sidecarsOf(cluster))];
  const volumes = await volumesOf(ids);
  if (ids.length > 0) await run('docker', ['rm', '-f', '-v', ...ids], { reject: false });
  const left = await existingVolumes(volumes);
  if (left.length > 0) await run('docker', ['volume', 'rm', '-f', ...left], { reject: false });
  for (const [net, owner] of await pciNetworks()) {
    if (owner === cluster) await run('docker', ['network', 'rm', net], { reject: false });
  }
}

/** Which of these image references exist in the local Docker daemon. */
export async function presentLocally(refs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const ref of refs) {
    if ((await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { reject: false })).exitCode === 0) out.push(ref);
  }
  return out;
}

/** Host directory bind-mounted at `containerPath` in `container`, or undefined (no such container or mount). */
export async function hostPathMountedAt(container: string, containerPath: string): Promise<string | undefined> {
  const r = await run('docker', ['inspect', '--format', '{{json .Mounts}}', container], { reject: false });
  if (r.exitCode !== 0) return undefined;
  const mounts = JSON.parse(r.stdout || '[]') as Array<{ Type?: string; Source?: string; Destination?: string }>;
  return mounts.find((m) => m.Type === 'bind' && m.Destination === containerPath)?.Source;
}
