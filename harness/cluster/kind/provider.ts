import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { deleteOnInterrupt, destroyCluster, forgetOnInterrupt, isShuttingDown, recordRun } from '../cleanup.ts';
import { run, type RunOptions } from '../exec.ts';
import { cacheDir, clusterWorkDir, REPO_ROOT } from '../paths.ts';
import { StepError } from '../progress.ts';
import { assertHarnessName, type Cluster, type ClusterProvider, type ClusterSpec } from '../provider.ts';
import { renderClusterConfig } from './config.ts';
import { ensureNetwork, nodeNamesOf, pciContainers } from './docker.ts';
import { installStandInCni } from './stand-in-cni.ts';
import { loadImagesWithCtr, loadImagesWithKind, missingImages, type LoadMethod } from './load.ts';

export interface KindProviderOptions {
  /** Directory holding kind/, control-plane/ (default: the repo's manifests/). */
  manifestsDir?: string;
  loadMethod?: LoadMethod;
}

/** Where `kind export logs` puts a failed cluster's logs (outside the work dir, which is deleted). */
export function failureLogDir(name: string): string {
  return join(cacheDir(), 'cluster-logs', name);
}

export class KindProvider implements ClusterProvider {
  readonly name = 'kind';
  readonly #manifestsDir: string;
  readonly #loadMethod: LoadMethod;

  constructor(opts: KindProviderOptions = {}) {
    this.#manifestsDir = opts.manifestsDir ?? join(REPO_ROOT, 'manifests');
    this.#loadMethod = opts.loadMethod ?? 'ctr';
  }

  async create(spec: ClusterSpec): Promise<Cluster> {
    assertHarnessName(spec.name);
    const { name, images, progress } = spec;
    const workDir = clusterWorkDir(name);
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    // Record and arm cleanup BEFORE anything exists, so an interrupt at any point below is covered.
    recordRun(name, this.name);
    deleteOnInterrupt(name, () => this.delete(name));

    const standInCni = spec.layout === 'kindnet' && images.defaultCni === 'stand-in';
    // The stand-in CNI has no cross-node routing: it runs on a single node.
    if (standInCni && !spec.singleNode) progress.log('kindnetd is not available locally: booting one node with the stand-in default CNI');
    const rendered = renderClusterConfig({ manifestsDir: this.#manifestsDir, layout: spec.layout, workDir, singleNode: spec.singleNode || standInCni, disableDefaultCni: standInCni });
    const kubeconfigPath = join(workDir, 'kubeconfig');
    try {
      await progress.step('docker network', () => ensureNetwork(name, name));
      await progress.step(`kind create cluster (${spec.layout})`, () =>
        run(
          images.kindBinary,
          ['create', 'cluster', '--name', name, '--image', images.nodeImage, '--config', rendered.kindConfigPath, '--kubeconfig', kubeconfigPath, '--retain'],
          // A per-cluster network, labelled by us, so `down` can remove it without touching kind's shared one.
          { env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: name } },
        ),
      );
      const nodes = await nodeNamesOf(name);
      await progress.step(`load ${images.loadImages.length} images into ${nodes.length} nodes (${this.#loadMethod})`, async () => {
        if (this.#loadMethod === 'kind') await loadImagesWithKind(images.kindBinary, name, images.loadImages);
        else await loadImagesWithCtr(nodes, images.loadImages, join(workDir, 'load'));
        for (const node of nodes) {
          const missing = await missingImages(node, images.loadImages);
          if (missing.length > 0) throw new Error(`node ${node} still lacks ${missing.join(', ')} after loading`);
        }
      });
    } catch (e) {
      throw await withFailureLogs(name, images.kindBinary, e);
    }
    const kubeClient = new KubeConfig();
    kubeClient.loadFromFile(kubeconfigPath);
    const kubectl = (args: string[], opts?: RunOptions) => run(images.kubectlBinary, ['--kubeconfig', kubeconfigPath, ...args], opts);
    const cluster = { name, kubeconfigPath, kubeClient, kubectl, images, workDir };
    if (standInCni) {
      try {
        await progress.step('default CNI stand-in (ptp, no policy engine: kindnetd cannot be built here)', () => installStandInCni(cluster));
      } catch (e) {
        throw await withFailureLogs(name, images.kindBinary, e);
      }
    }
    return cluster;
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

/** Export kind's node logs for a failed cluster and attach where they are to the error. */
export async function withFailureLogs(name: string, kindBinary: string, e: unknown): Promise<StepError> {
  const err = e instanceof StepError ? e : new StepError('kind cluster', e);
  if (isShuttingDown()) return err; // interrupted: the signal handler is deleting the cluster
  const dir = failureLogDir(name);
  if (await exportLogs(name, dir, kindBinary)) err.lookAt.push(`${dir} (kind export logs: kubelet, containerd, journal, pod logs per node)`);
  return err;
}

export async function exportLogs(name: string, dir: string, kindBinary: string): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  const r = await run(kindBinary, ['export', 'logs', dir, '--name', name], { reject: false, timeoutMs: 120_000 }).catch(() => undefined);
  return r?.exitCode === 0;
}
