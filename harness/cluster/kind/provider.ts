import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { deleteOnInterrupt, destroyCluster, forgetOnInterrupt, isShuttingDown, recordRun } from '../cleanup.ts';
import { CommandError, run, type RunOptions } from '../exec.ts';
import { cacheDir, clusterWorkDir, REPO_ROOT } from '../paths.ts';
import type { Progress } from '../progress.ts';
import { assertHarnessName, type Cluster, type ClusterProvider, type ClusterSpec } from '../provider.ts';
import { renderClusterConfig } from './config.ts';
import { ensureNetwork, nodeNamesOf, pciContainers } from './docker.ts';
import { installStandInCni } from './stand-in-cni.ts';
import { bakedNodeImage } from './bake.ts';
import { loadMissingImages, type LoadMethod } from './load.ts';

interface KindProviderOptions {
  /** Directory holding kind/, control-plane/ (default: the repo's manifests/). */
  manifestsDir?: string;
  loadMethod?: LoadMethod;
}

/**
 * kind behind `ClusterProvider`: nodes are docker containers labelled
 * io.x-k8s.kind.cluster=<name> on a per-cluster docker network; deletion is
 * done at the docker level (cleanup.ts), so it also works on half-created clusters.
 */
export class KindProvider implements ClusterProvider {
  readonly name = 'kind';
  readonly #manifestsDir: string;
  readonly #loadMethod: LoadMethod;
  /** kind binary each created cluster was made with (for `export logs`). */
  readonly #kindOf = new Map<string, string>();

  constructor(opts: KindProviderOptions = {}) {
    this.#manifestsDir = opts.manifestsDir ?? join(REPO_ROOT, 'manifests');
    this.#loadMethod = opts.loadMethod ?? loadMethodFromEnv() ?? 'bake';
  }

  async create(spec: ClusterSpec): Promise<Cluster> {
    assertHarnessName(spec.name);
    const { name, images, progress } = spec;
    this.#kindOf.set(name, images.kindBinary);
    const workDir = clusterWorkDir(name);
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    // Record and arm cleanup BEFORE anything exists, so an interrupt at any point below is covered.
    recordRun(name, this.name);
    deleteOnInterrupt(name, () => this.delete(name));

    const inotify = inotifyWarning();
    if (inotify) progress.log(`WARNING: ${inotify}`);
    const standInCni = spec.layout === 'kindnet' && images.defaultCni === 'stand-in';
    // The stand-in CNI has no cross-node routing: it runs on a single node.
    if (standInCni && !spec.singleNode) progress.log('kindnetd is not available locally: booting one node with the stand-in default CNI');
    const rendered = renderClusterConfig({ manifestsDir: this.#manifestsDir, layout: spec.layout, workDir, singleNode: spec.singleNode || standInCni, disableDefaultCni: standInCni });
    const kubeconfigPath = join(workDir, 'kubeconfig');
    // Images the nodes find at start, like kubeadm's in kind's node image. Local images only: upstream node
    // images are pulled by kind, and probe/server are then imported after create.
    const preload = [...new Set([...(spec.preload ?? []), ...images.loadImages])].sort();
    const nodeImage =
      this.#loadMethod === 'bake' && images.mode === 'local' && preload.length > 0
        ? await progress.step(`bake ${preload.length} images into the node image`, () => bakedNodeImage(images.nodeImage, preload, (l) => progress.log(l)))
        : images.nodeImage;
    await progress.step('docker network', () => ensureNetwork(name, name));
    await progress.step(`kind create cluster (${spec.layout})`, async () => {
      try {
        await run(
          images.kindBinary,
          // --retain: on failure the nodes stay for `collectLogs`; boot's failure rule deletes them after.
          ['create', 'cluster', '--name', name, '--image', nodeImage, '--config', rendered.kindConfigPath, '--kubeconfig', kubeconfigPath, '--retain'],
          // A per-cluster network, labelled by us, so `down` can remove it without touching kind's shared one.
          { env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: name } },
        );
      } catch (e) {
        // kind's own one-line reason comes before kubeadm's stack trace, which is all the output's tail shows.
        const reason = e instanceof CommandError ? /^ERROR: .*$/m.exec(e.stderr)?.[0] : undefined;
        throw reason ? new Error(`kind create cluster: ${reason.slice(0, 600)}`, { cause: e }) : e;
      }
    });
    const kubeClient = new KubeConfig();
    kubeClient.loadFromFile(kubeconfigPath);
    const kubectl = (args: string[], opts?: RunOptions) => run(images.kubectlBinary, ['--kubeconfig', kubeconfigPath, ...args], opts);
    const cluster = { name, kubeconfigPath, kubeClient, kubectl, images, workDir };
    if (standInCni) await progress.step('default CNI stand-in (ptp, no policy engine: kindnetd cannot be built here)', () => installStandInCni(cluster));
    return cluster;
  }

  async loadImages(cluster: Cluster, images: string[], progress: Progress): Promise<void> {
    const nodes = await nodeNamesOf(cluster.name);
    progress.log(`${images.length} images, ${nodes.length} node(s), method ${this.#loadMethod}`);
    await loadMissingImages({
      kindBinary: cluster.images.kindBinary,
      cluster: cluster.name,
      nodes,
      images,
      method: this.#loadMethod === 'kind' ? 'kind' : 'ctr',
      scratchDir: join(cluster.workDir, 'load'),
      log: (l) => progress.log(l),
    });
  }

  /** `kind export logs` (kubelet, containerd, journal, pod logs per node) into $CACHE/cluster-logs/<name>/, outside the work dir (deleted with the cluster). */
  async collectLogs(name: string): Promise<string[]> {
    if (isShuttingDown() || (await nodeNamesOf(name).catch(() => [])).length === 0) return [];
    const dir = join(cacheDir(), 'cluster-logs', name);
    mkdirSync(dir, { recursive: true });
    const r = await run(this.#kindOf.get(name) ?? 'kind', ['export', 'logs', dir, '--name', name], { reject: false, timeoutMs: 120_000 }).catch(() => undefined);
    // kind exits non-zero when one collection fails (no pod logs on a node that never joined): what it got still counts.
    if (readdirSync(dir).length === 0) return [];
    const out = [`${dir} (kind export logs${r?.exitCode === 0 ? '' : ', partial'}: kubelet, containerd, journal, pod logs per node)`];
    // The one failure seen here that is the host's, not the cluster's: inotify instances used up by concurrent clusters.
    const exhausted = (await run('grep', ['-rlE', 'too many open files', dir, '--include=containerd.log', '--include=kubelet.log'], { reject: false })).stdout.trim();
    if (exhausted) out.push(`"too many open files" in ${exhausted.split('\n')[0]}: ${inotifyWarning() ?? 'the host ran out of inotify instances or file descriptors'}`);
    return out;
  }

  async delete(name: string): Promise<void> {
    // Interrupted mid-create: wait out in-flight `docker run`s; otherwise nothing is in flight.
    await destroyCluster(name, { quietMs: isShuttingDown() ? 6_000 : 0 });
    forgetOnInterrupt(name);
  }

  async list(): Promise<string[]> {
    return [...(await pciContainers()).keys()].sort();
  }
}

/** PCI_HARNESS_LOAD=bake|ctr|kind: compare the ways of getting images onto the nodes without editing code. */
function loadMethodFromEnv(): LoadMethod | undefined {
  const v = process.env.PCI_HARNESS_LOAD;
  if (!v) return undefined;
  if (v === 'bake' || v === 'ctr' || v === 'kind') return v;
  throw new Error(`PCI_HARNESS_LOAD="${v}": use bake, ctr or kind`);
}

/**
 * Each kind node's containerd, kubelet and pods take inotify instances; with
 * the default fs.inotify.max_user_instances (128) a few concurrent clusters
 * exhaust it and containerd's CRI plugin fails to load ("too many open
 * files"; kind's known issues recommend 512).
 */
function inotifyWarning(): string | undefined {
  try {
    const n = Number(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8'));
    if (n >= 512) return undefined;
    return `fs.inotify.max_user_instances is ${n}: several clusters at once can exhaust it (containerd then fails with "too many open files"); kind recommends \`sysctl fs.inotify.max_user_instances=512\``;
  } catch {
    return undefined;
  }
}
