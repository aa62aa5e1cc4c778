import type { KubeConfig } from '@kubernetes/client-node';
import type { ImageSource } from './images.ts';
import type { Progress } from './progress.ts';
import type { RunOptions, RunResult } from './exec.ts';

/**
 * One interface, implementations behind it (kind's own provider layout):
 * the boot sequence and the suites only see `ClusterProvider` and `Cluster`.
 * Today: kind (harness/cluster/kind/). Later: existing clusters by kubeconfig.
 */

/** Every cluster the harness makes is named pci-<something>: that prefix is how `down` finds them. */
export const CLUSTER_PREFIX = 'pci-';

/** Which kind config under manifests/kind/ the cluster uses. */
export type ClusterLayout = 'pci-calico' | 'kindnet';

export interface ClusterSpec {
  /** Must start with `pci-`. */
  name: string;
  layout: ClusterLayout;
  images: ImageSource;
  progress: Progress;
  /** Control-plane node only (small clusters such as the kindnet canary). */
  singleNode?: boolean;
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
  create(spec: ClusterSpec): Promise<Cluster>;
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
