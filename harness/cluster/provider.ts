import type { KubeConfig } from '@kubernetes/client-node';
import type { ImageSource } from './images.ts';
import type { Progress } from './progress.ts';
import type { RunOptions, RunResult } from './exec.ts';

/**
 * One interface, implementations behind it (kind's own provider layout):
 * the boot sequence (boot.ts) and the suites only see `ClusterProvider` and
 * `Cluster`. Today: kind (harness/cluster/kind/). Later: an existing cluster
 * by kubeconfig (create = attach, delete = forget, loadImages = verify).
 */

/** Every cluster the harness makes is named pci-<something>: that prefix is how `down` finds them. */
export const CLUSTER_PREFIX = 'pci-';

/** Which kind config under manifests/kind/ the cluster uses. */
/** pci-calico and pci-cilium: the PCI cluster with either NetworkPolicy engine (harness/cluster/cni/); kindnet: the "not enforced" canary. */
export type ClusterLayout = 'pci-calico' | 'pci-cilium' | 'kindnet';

export interface ClusterSpec {
  /** Must start with `pci-`. */
  name: string;
  layout: ClusterLayout;
  images: ImageSource;
  progress: Progress;
  /** Control-plane node only (small clusters such as the kindnet canary). */
  singleNode?: boolean;
  /**
   * Images the nodes may carry from the start: a superset of `images.loadImages`
   * (every locally built image any layout loads), so one baked node image
   * serves every layout (kind/bake.ts).
   */
  preload?: string[];
}

export interface Cluster {
  name: string;
  kubeconfigPath: string;
  /** Loaded client config: `cluster.kubeClient.makeApiClient(CoreV1Api)`. */
  kubeClient: KubeConfig;
  /** kubectl against this cluster (server-side apply, exec, wait...). */
  kubectl(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Images used by this cluster (probe/server refs for scenarios). */
  images: ImageSource;
  /** Per-cluster scratch dir (control-plane files, audit log, logs on failure). */
  workDir: string;
}

export interface ClusterProvider {
  readonly name: string;
  /** Nodes up and the API reachable (kubeconfig written); no CNI or addon yet. */
  create(spec: ClusterSpec): Promise<Cluster>;
  /**
   * Make `images` present on the cluster's nodes so pods start with zero pulls;
   * throws naming the node that still lacks one. Details go to `progress.log`.
   */
  loadImages(cluster: Cluster, images: string[], progress: Progress): Promise<void>;
  /** After a failed boot: export what explains it (node logs). Returns where to look; empty when nothing was exported. */
  collectLogs(name: string): Promise<string[]>;
  /** Idempotent: deleting a cluster that does not exist is not an error. */
  delete(name: string): Promise<void>;
  /** Names of the harness's clusters (pci-*) this provider can see. */
  list(): Promise<string[]>;
}

export function assertHarnessName(name: string): void {
  if (!/^pci-[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(name)) {
    throw new Error(`cluster name "${name}" must match pci-[a-z0-9-] (max 45 chars): the pci- prefix is how cleanup finds it`);
  }
}
