import type { TestProject } from 'vitest/node';
import { attachCluster, clusterRef, type ClusterRef } from '../../harness/cluster/attach.ts';
import { bootCluster, type BootedCluster } from '../../harness/cluster/boot.ts';
import { installSignalHandlers } from '../../harness/cluster/cleanup.ts';
import { chooseImageSource } from '../../harness/cluster/images.ts';
import { writeBootReport } from './support/report.ts';

/**
 * One shared PCI cluster (Calico + Kyverno + the PCI set) for every live file,
 * booted once and ALWAYS deleted in teardown (vitest runs it after failures
 * too; SIGINT/SIGTERM delete it through the harness's signal handlers).
 *   PCI_LIVE_SHARED=0          don't boot it (running only kindnet/interrupt files)
 *   PCI_LIVE_KUBECONFIG=path   reuse a running cluster (`pci-harness up`); not deleted
 *   PCI_LIVE_CLUSTER=name      its name (default pci-reused)
 */
declare module 'vitest' {
  export interface ProvidedContext {
    pciCluster: ClusterRef | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  installSignalHandlers();
  if (process.env.PCI_LIVE_SHARED === '0') {
    project.provide('pciCluster', null);
    return async () => {};
  }
  const reuse = process.env.PCI_LIVE_KUBECONFIG;
  if (reuse) {
    const ref: ClusterRef = { name: process.env.PCI_LIVE_CLUSTER ?? 'pci-reused', kubeconfigPath: reuse, workDir: '', images: chooseImageSource('auto') };
    attachCluster(ref);
    project.provide('pciCluster', ref);
    return async () => {};
  }
  const cluster: BootedCluster = await bootCluster({ layout: 'pci-calico' });
  writeBootReport('pci-calico', cluster);
  project.provide('pciCluster', clusterRef(cluster));
  return async () => {
    const t0 = performance.now();
    await cluster.destroy();
    writeBootReport('pci-calico-teardown', { teardownMs: performance.now() - t0 });
  };
}
