import { KubeConfig } from '@kubernetes/client-node';
import { run, type RunOptions } from './exec.ts';
import type { ImageSource } from './images.ts';
import type { Cluster } from './provider.ts';

/** What a booted cluster's handle needs to be rebuilt in another process (vitest workers, a later CLI call). */
export interface ClusterRef {
  name: string;
  kubeconfigPath: string;
  workDir: string;
  images: ImageSource;
}

export function clusterRef(c: Cluster): ClusterRef {
  return { name: c.name, kubeconfigPath: c.kubeconfigPath, workDir: c.workDir, images: c.images };
}

/** A Cluster handle for an already-running cluster, from its kubeconfig. Does not own (or delete) it. */
export function attachCluster(ref: ClusterRef): Cluster {
  const kubeClient = new KubeConfig();
  kubeClient.loadFromFile(ref.kubeconfigPath);
  const kubectl = (args: string[], opts?: RunOptions) => run(ref.images.kubectlBinary, ['--kubeconfig', ref.kubeconfigPath, ...args], opts);
  return { ...ref, kubeClient, kubectl };
}
