import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadManifestDir } from '../manifests/load.ts';
import { applyFile, applyObjects, planApply, rolloutsOf } from './apply.ts';
import { isShuttingDown, sweepStale } from './cleanup.ts';
import { chooseImageSource, requireAddonManifests, type ImageMode, type ImageSource } from './images.ts';
import { presentLocally } from './kind/docker.ts';
import { KindProvider, withFailureLogs } from './kind/provider.ts';
import type { LoadMethod } from './kind/load.ts';
import { REPO_ROOT } from './paths.ts';
import { Progress, StepError, stderrSink, type ProgressSink } from './progress.ts';
import type { Cluster, ClusterLayout, ClusterProvider } from './provider.ts';
import { assertNoPulls } from './pulls.ts';
import type { K8sObject } from '../manifests/types.ts';
import { waitAdmissionServing, waitClusterPoliciesReady, waitNamespaceRollouts, waitNodesReady, waitRollout, waitValidatingWebhook } from './readiness.ts';

export interface BootOptions {
  /** kind config under manifests/kind/ (default pci-calico). */
  layout?: ClusterLayout;
  /** Image source (default: local when the image record exists, else upstream). */
  images?: ImageMode | 'auto' | ImageSource;
  /** Default pci-<random>. */
  name?: string;
  /** Apply the PCI set from manifests/cluster (default: true on pci-calico, false on kindnet). */
  pciSet?: boolean;
  manifestsDir?: string;
  provider?: ClusterProvider;
  loadMethod?: LoadMethod;
  log?: ProgressSink;
  /** Control-plane node only (default false). */
  singleNode?: boolean;
  /** Leave a failed cluster running for debugging (default false: failures clean up too). */
  keepOnFailure?: boolean;
}

export interface BootedCluster extends Cluster {
  layout: ClusterLayout;
  /** Step → duration (ms): the numbers in harness/cluster/README.md. */
  timings: Array<{ step: string; ms: number }>;
  bootMs: number;
  /** Delete the cluster and everything it made; idempotent. */
  destroy(): Promise<void>;
}

export function newClusterName(): string {
  return `pci-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}

/** Kyverno's webhook for Fail-policy validate rules (kyverno config: ValidatingWebhookName + "-fail"). */
export const KYVERNO_RESOURCE_WEBHOOK_CONFIG = 'kyverno-resource-validating-webhook-cfg';
export const KYVERNO_POLICY_WEBHOOK_CONFIG = 'kyverno-policy-validating-webhook-cfg';

/**
 * Dry-run only (never stored): proves Kyverno's policy webhooks (mutate-policy,
 * validate-policy) answer, independently of the PCI set's own policies, so a
 * defect in those is reported by the policies phase, not blamed on Kyverno.
 */
const KYVERNO_READINESS_POLICY: K8sObject = {
  apiVersion: 'kyverno.io/v1',
  kind: 'ClusterPolicy',
  metadata: { name: 'pci-harness-readiness' },
  spec: {
    background: false,
    rules: [
      {
        name: 'noop',
        match: { any: [{ resources: { kinds: ['ConfigMap'], names: ['pci-harness-readiness'] } }] },
        validate: { failureAction: 'Audit', message: 'readiness probe', pattern: { metadata: { name: '?*' } } },
      },
    ],
  },
};

/**
 * Boot a cluster: kind nodes → images preloaded → CNI ready → Kyverno ready →
 * PCI set applied in dependency order → workloads rolled out → zero pulls.
 * Any failure exports logs, deletes the cluster (unless keepOnFailure) and
 * throws a StepError naming the step.
 */
export async function bootCluster(opts: BootOptions = {}): Promise<BootedCluster> {
  const layout = opts.layout ?? 'pci-calico';
  const name = opts.name ?? newClusterName();
  const manifestsDir = opts.manifestsDir ?? join(REPO_ROOT, 'manifests');
  const chosen = typeof opts.images === 'object' ? opts.images : chooseImageSource(opts.images ?? 'auto', { pciSetDir: join(manifestsDir, 'cluster') });
  // Referenced images missing from the record but present in the local Docker (a partial `images build`
  // rewrote the record): load them too, loudly, rather than let the cluster try to pull.
  const present = chosen.mode === 'local' ? await presentLocally(chosen.notBuilt) : [];
  const pciSet = opts.pciSet ?? layout === 'pci-calico';
  const allImages = [...chosen.loadImages, ...present];
  // Without Calico, Kyverno or the PCI set (the kindnet canary), only the probe and server images run: load just those.
  const loadImages = layout === 'pci-calico' || pciSet ? allImages : allImages.filter((r) => r === chosen.probeImage || r === chosen.serverImage);
  const images = { ...chosen, loadImages, notBuilt: chosen.notBuilt.filter((r) => !present.includes(r)) };
  const provider = opts.provider ?? new KindProvider({ manifestsDir, loadMethod: opts.loadMethod });
  const progress = new Progress(name, opts.log ?? stderrSink);
  if (layout === 'pci-calico') requireAddonManifests(images);

  const swept = await sweepStale((l) => progress.log(l));
  if (swept.length) progress.log(`swept ${swept.length} leaked cluster(s) from crashed runs`);
  progress.log(`booting ${layout} with ${images.mode} images (node ${images.nodeImage})`);
  if (present.length) progress.log(`WARNING: not in the image record but present in local Docker, loading anyway: ${present.join(', ')}`);
  if (images.notBuilt.length) progress.log(`WARNING: referenced but not built locally (would be pulled): ${images.notBuilt.join(', ')}`);

  let cluster: Cluster | undefined;
  const destroy = async () => {
    const t0 = performance.now();
    await provider.delete(name);
    progress.log(`deleted in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  };
  try {
    cluster = await provider.create({ name, layout, images, progress, singleNode: opts.singleNode });
    const c = cluster;
    const log = (l: string) => progress.log(l);
    if (layout === 'pci-calico') {
      await progress.step('Calico', async () => {
        await applyFile(c, images.calicoManifest, { log });
        await waitRollout(c, 'kube-system', 'daemonset/calico-node');
        await waitNodesReady(c);
        await waitNamespaceRollouts(c, 'kube-system');
      });
      await progress.step('Kyverno', async () => {
        await applyFile(c, images.kyvernoManifest, { log });
        await waitNamespaceRollouts(c, 'kyverno');
        await waitValidatingWebhook(c, KYVERNO_POLICY_WEBHOOK_CONFIG);
        // Registered is not serving: the Service may have no programmed endpoint yet.
        await waitAdmissionServing(c, KYVERNO_READINESS_POLICY, { log });
      });
    } else {
      await progress.step('kindnet', async () => {
        await waitNodesReady(c);
        if (images.defaultCni === 'kindnetd') await waitRollout(c, 'kube-system', 'daemonset/kindnet');
      });
    }
    if (pciSet) await applyPciSet(c, join(manifestsDir, 'cluster'), progress);
    if (images.expectNoPulls) await progress.step('assert zero image pulls', () => assertNoPulls(c));
  } catch (e) {
    const err = e instanceof StepError ? e : new StepError('boot', e);
    // Interrupted: the signal handler owns cleanup and exits; don't race it.
    if (isShuttingDown()) await new Promise(() => {});
    if (cluster && err.lookAt.length === 0) {
      const withLogs = await withFailureLogs(name, images.kindBinary, err);
      err.lookAt.push(...withLogs.lookAt.filter((l) => !err.lookAt.includes(l)));
    }
    if (!opts.keepOnFailure) await destroy().catch(() => undefined);
    else if (cluster) err.lookAt.push(`cluster kept: KUBECONFIG=${cluster.kubeconfigPath} (remove with \`pci-harness down\`)`);
    throw err;
  }
  progress.log(`ready in ${(progress.elapsed() / 1000).toFixed(1)}s — KUBECONFIG=${cluster.kubeconfigPath}`);
  return { ...cluster, layout, timings: progress.timings, bootMs: progress.elapsed(), destroy };
}

/** Apply manifests/cluster in dependency order, waiting where a later phase depends on an earlier one. */
export async function applyPciSet(cluster: Cluster, dir: string, progress: Progress): Promise<void> {
  const set = loadManifestDir(dir);
  const plan = planApply(set.objects.map((o) => o.object));
  for (const { phase, objects } of plan) {
    await progress.step(`PCI set: ${phase} (${objects.length})`, async () => {
      await applyObjects(cluster, objects, { log: (l) => progress.log(l) });
      if (phase === 'policies') {
        await waitClusterPoliciesReady(cluster);
        if (objects.some((o) => o.kind === 'ClusterPolicy' || o.kind === 'Policy')) await waitValidatingWebhook(cluster, KYVERNO_RESOURCE_WEBHOOK_CONFIG);
      }
      if (phase === 'workloads') {
        for (const r of rolloutsOf(objects)) await waitRollout(cluster, r.namespace, r.ref);
      }
    });
  }
}

/**
 * Run `fn` against a fresh cluster and always delete it (chainsaw's finally):
 *   await withCluster({ layout: 'kindnet' }, async (c) => { ... });
 */
export async function withCluster<T>(opts: BootOptions, fn: (cluster: BootedCluster) => Promise<T>): Promise<T> {
  const cluster = await bootCluster(opts);
  try {
    return await fn(cluster);
  } finally {
    await cluster.destroy();
  }
}
