import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { run, type RunOptions } from './exec.ts';
import type { ImageSource } from './images.ts';
import { AUDIT_CONTAINER_PATH } from './kind/config.ts';
import { hostPathMountedAt } from './kind/docker.ts';
import { clusterWorkDir } from './paths.ts';
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

/**
 * Name and work dir of a running kind cluster known only by its kubeconfig
 * (the live lane's PCI_LIVE_KUBECONFIG). Name: `name`, else kind's context
 * `kind-<name>`. Work dir (it holds audit/, the apiserver's audit log): `workDir`,
 * else the host side of the control-plane's audit mount (kind/config.ts), else
 * `clusterWorkDir(name)` when it has audit/ (`pci-harness up`). Throws saying
 * what to set when none fits.
 */
export async function locateCluster(kubeconfigPath: string, given: { name?: string; workDir?: string } = {}): Promise<{ name: string; workDir: string }> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const context = kc.getCurrentContext();
  const name = given.name || (context.startsWith('kind-') ? context.slice('kind-'.length) : '');
  if (!name) {
    throw new Error(`cannot tell the cluster's name from ${kubeconfigPath} (current context "${context}" is not kind-<name>): set PCI_LIVE_CLUSTER=<name>`);
  }
  const candidates = given.workDir ? [given.workDir] : [await auditMountWorkDir(name), clusterWorkDir(name)];
  const workDir = candidates.find((d) => d !== undefined && existsSync(join(d, 'audit')));
  if (!workDir) {
    throw new Error(
      given.workDir
        ? `PCI_LIVE_WORKDIR=${given.workDir} has no audit/ directory (the host side of the control-plane's ${AUDIT_CONTAINER_PATH} mount)`
        : `cannot find the work dir of cluster "${name}" (no ${AUDIT_CONTAINER_PATH} bind mount on ${name}-control-plane, no ${join(clusterWorkDir(name), 'audit')}): ` +
            `set PCI_LIVE_WORKDIR to the directory holding its audit/ dir (the host path mounted at ${AUDIT_CONTAINER_PATH}, minus /audit), or PCI_LIVE_CLUSTER if the name is not ${name}`,
    );
  }
  return { name, workDir };
}

async function auditMountWorkDir(name: string): Promise<string | undefined> {
  const host = await hostPathMountedAt(`${name}-control-plane`, AUDIT_CONTAINER_PATH);
  return host && basename(host) === 'audit' ? dirname(host) : undefined;
}
