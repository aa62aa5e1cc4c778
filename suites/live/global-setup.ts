import type { TestProject } from 'vitest/node';
import { attachCluster, clusterRef, locateCluster, type ClusterRef } from '../../harness/cluster/attach.ts';
import { bootCluster, type BootedCluster } from '../../harness/cluster/boot.ts';
import { installSignalHandlers } from '../../harness/cluster/cleanup.ts';
import { StepError } from '../../harness/cluster/progress.ts';
import { chooseImageSource, type ImageMode } from '../../harness/cluster/images.ts';
import { detectCni, layoutForCni, liveCniFromEnv } from '../../harness/cluster/cni/index.ts';
import { liveManifestsDir } from '../../harness/scenario/context.ts';
import { writeBootReport } from './support/report.ts';

/**
 * One shared PCI cluster (Calico + Kyverno + the PCI set) for every live file,
 * booted once and ALWAYS deleted in teardown (vitest runs it after failures
 * too; SIGINT/SIGTERM delete it through the harness's signal handlers).
 *   PCI_LIVE_SHARED=0          don't boot it (a file that boots its own cluster)
 *   PCI_LIVE_KUBECONFIG=path   reuse a running cluster (`pci-harness up`); not deleted
 *   PCI_LIVE_CLUSTER=name      its name (default: from the kubeconfig's kind-<name> context)
 *   PCI_LIVE_WORKDIR=dir       its work dir, holding audit/ (default: found from the
 *                              control-plane's audit mount, or $CACHE/runs/<name>)
 *   PCI_HARNESS_IMAGES=mode    auto (default) | local | upstream, as `pci-harness run --images`
 *   PCI_LIVE_CNI=calico|cilium the shared cluster's CNI: layout pci-calico (default) or pci-cilium;
 *                              with PCI_LIVE_KUBECONFIG, checked against the cluster's. Workers see the
 *                              cluster's CNI here, and every live result names it (harness/scenario/sink.ts).
 *   PCI_LIVE_MANIFESTS=dir     the set to boot and attack (default manifests/; `run --manifests` lays a user's out)
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
  const images = imageModeFromEnv();
  const reuse = process.env.PCI_LIVE_KUBECONFIG;
  if (reuse) {
    let ref: ClusterRef;
    try {
      const { name, workDir } = await locateCluster(reuse, { name: process.env.PCI_LIVE_CLUSTER, workDir: process.env.PCI_LIVE_WORKDIR });
      ref = { name, kubeconfigPath: reuse, workDir, images: chooseImageSource(images) };
      const running = await detectCni(attachCluster(ref));
      const asked = liveCniFromEnv();
      if (asked && running !== asked) throw new Error(`PCI_LIVE_CNI=${asked}, but cluster ${name} runs ${running ?? 'no known CNI'}`);
      if (running === 'calico' || running === 'cilium') process.env.PCI_LIVE_CNI = running;
    } catch (e) {
      throw environmentFailure(e, `attach the cluster of PCI_LIVE_KUBECONFIG=${reuse}`);
    }
    project.provide('pciCluster', ref);
    return async () => {};
  }
  const layout = layoutForCni(liveCniFromEnv() ?? 'calico');
  process.env.PCI_LIVE_CNI = layout.slice('pci-'.length);
  let cluster: BootedCluster;
  try {
    // The set under attack: the shipped one, or a user's laid out by `pci-harness run --manifests`.
    const manifestsDir = liveManifestsDir();
    cluster = await bootCluster({ layout, images, manifestsDir });
  } catch (e) {
    throw environmentFailure(e);
  }
  writeBootReport(layout, cluster);
  project.provide('pciCluster', clusterRef(cluster));
  return async () => {
    const t0 = performance.now();
    await cluster.destroy();
    writeBootReport(`${layout}-teardown`, { teardownMs: performance.now() - t0 });
  };
}

/** `pci-harness run --images X` passes X here; a typo must not silently fall back to auto. */
function imageModeFromEnv(): ImageMode | 'auto' {
  const v = process.env.PCI_HARNESS_IMAGES || 'auto';
  if (v === 'auto' || v === 'local' || v === 'upstream') return v;
  throw new Error(`PCI_HARNESS_IMAGES="${v}": use auto, local or upstream`);
}

/**
 * The shared cluster did not boot: no test can run, and vitest then says only
 * "No test files found" — which reads like a wrong path. Say what failed, as
 * an environment failure (not a verdict on the manifests), first and again as
 * the last line, and exit 3 (EXIT.environment, as `pci-harness` does).
 */
function environmentFailure(e: unknown, what = 'boot'): unknown {
  const step = e instanceof StepError ? e.step : what;
  const reason = e instanceof StepError ? e.describe() : e instanceof Error ? e.message : String(e);
  const text = [
    `ENVIRONMENT FAILURE: boot step "${step}" failed — the shared live cluster did not come up, so no live test ran (not a verdict on the manifests).`,
    reason.replace(/^cluster boot step "[^"]*" failed: /, '  '),
    e instanceof StepError && e.lookAt.length ? '' : '  look at: the boot progress lines above ([pci-...] ...)',
  ].filter(Boolean).join('\n');
  process.stderr.write(`\n${text}\n\n`);
  process.once('exit', (code) => {
    process.stderr.write(`\nENVIRONMENT FAILURE: boot step "${step}" failed (details above)\n`);
    if (code !== 0) process.exitCode = 3;
  });
  return e;
}
