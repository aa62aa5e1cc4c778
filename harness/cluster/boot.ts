import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifestDir } from '../manifests/load.ts';
import type { K8sObject } from '../manifests/types.ts';
import { InputError } from '../errors.ts';
import { applyFile, applyObjects, planApply, rolloutsOf, type PhasePlan } from './apply.ts';
import { isShuttingDown, sweepStale } from './cleanup.ts';
import { cdeImageRefs, chooseImageSource, inSigningRegistry, requireAddonManifests, type ImageMode, type ImageSource } from './images.ts';
import { presentLocally } from './kind/docker.ts';
import { KindProvider } from './kind/provider.ts';
import type { LoadMethod } from './kind/load.ts';
import { cacheDir, REPO_ROOT } from './paths.ts';
import { Progress, StepError, stderrSink, type ProgressSink } from './progress.ts';
import type { Cluster, ClusterLayout, ClusterProvider } from './provider.ts';
import { assertNoPulls } from './pulls.ts';
import { signedImagePlan, withPublicKey, setVerifiesRegistry } from '../registry/names.ts';
import { setUpSigning, type SigningSetup } from '../registry/setup.ts';
import { setShipsToStandIn } from '../audit-store/names.ts';
import { setUpAuditStore } from '../audit-store/setup.ts';
import { waitAdmissionServing, waitClusterPoliciesReady, waitNamespaceRollouts, waitRollout, waitValidatingWebhook } from './readiness.ts';
import { cniOf, cniSteps, imagesForLayout, isPciLayout } from './cni/index.ts';

export interface BootOptions {
  /** kind config under manifests/kind/ (default pci-calico). */
  layout?: ClusterLayout;
  /** Image source (default: local when the image record exists, else upstream). */
  images?: ImageMode | 'auto' | ImageSource;
  /** Default pci-<random>. */
  name?: string;
  /** Apply the PCI set from manifests/cluster (default: true on pci-calico and pci-cilium, false on kindnet). */
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
const KYVERNO_POLICY_WEBHOOK_CONFIG = 'kyverno-policy-validating-webhook-cfg';

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
 * One boot step: a name (in progress lines, timings and the StepError) and
 * what it does once the provider has created the nodes. kind's `create` runs
 * its actions the same way (pkg/cluster/internal/create/create.go).
 */
interface BootStep {
  name: string;
  run(cluster: Cluster): Promise<void>;
}

type Log = (line: string) => void;

function kyvernoStep(images: ImageSource, log: Log): BootStep {
  return {
    name: 'Kyverno',
    run: async (c) => {
      await applyFile(c, images.kyvernoManifest, { log });
      await waitNamespaceRollouts(c, 'kyverno');
      await waitValidatingWebhook(c, KYVERNO_POLICY_WEBHOOK_CONFIG);
      // Registered is not serving: the Service may have no programmed endpoint yet.
      await waitAdmissionServing(c, KYVERNO_READINESS_POLICY, { log });
    },
  };
}

/**
 * The set's verifyImages policy names the live lane's registry: start it beside
 * the cluster, push and sign the set's images with a key made for this run
 * (harness/registry/). The registry container carries the cluster's label, so
 * deleting the cluster (or the crash sweep) removes it.
 */
function signingStep(log: Log, done: (s: SigningSetup) => void): BootStep {
  return {
    name: 'signing registry (push + cosign sign)',
    run: async (c) => {
      const s = await setUpSigning(c, log);
      log(`signing setup: ${s.timings.map((t) => `${t.step} ${(t.ms / 1000).toFixed(1)}s`).join(', ')}`);
      done(s);
    },
  };
}

/** The probe image's push and signature ran behind the CNI and Kyverno steps; the cluster is not ready until they are done. */
function signedRestStep(log: Log, signing: () => SigningSetup | undefined): BootStep {
  return {
    name: 'signed probe image (pushed in the background)',
    run: async () => {
      const s = signing();
      if (!s) throw new Error('the signing step did not run');
      const all = await s.rest;
      log(`signed in the registry: ${all.map((i) => i.ref).join(', ')}; signing timings: ${s.timings.map((t) => `${t.step} ${(t.ms / 1000).toFixed(1)}s`).join(', ')}`);
    },
  };
}

/**
 * The set's shipper writes to the live lane's stand-in store: start it beside
 * the cluster with the bucket and the Secret the shipper needs
 * (harness/audit-store/), before the set is applied. Labelled like the registry.
 */
function auditStoreStep(objects: K8sObject[], log: Log): BootStep {
  return { name: 'audit store (Object Lock bucket + shipper Secret)', run: async (c) => void (await setUpAuditStore(c, objects, log)) };
}

/** The PCI set in dependency order, one step per phase, waiting where a later phase depends on an earlier one. */
function pciSetSteps(plan: PhasePlan[], log: Log, publicKey: () => string | undefined = () => undefined): BootStep[] {
  return plan.map(({ phase, objects }) => ({
    name: `PCI set: ${phase} (${objects.length})`,
    run: async (c) => {
      // `${COSIGN_PUBLIC_KEY}` becomes this run's public key at apply time (the file keeps the placeholder).
      const key = publicKey();
      await applyObjects(c, key ? withPublicKey(objects, key).objects : objects, { log });
      if (phase === 'policies') {
        await waitClusterPoliciesReady(c);
        if (objects.some((o) => o.kind === 'ClusterPolicy' || o.kind === 'Policy')) await waitValidatingWebhook(c, KYVERNO_RESOURCE_WEBHOOK_CONFIG);
      }
      if (phase === 'workloads') {
        for (const r of rolloutsOf(objects)) await waitRollout(c, r.namespace, r.ref);
      }
    },
  }));
}

/**
 * Every registry image the set names must be one the signing step pushes
 * (registry/names.ts signedImagePlan); any other would fail to pull after
 * the nodes exist. Checked before: the error names the reference and the list.
 */
function requirePushedRegistryImages(plan: PhasePlan[], images: ImageSource): void {
  const pushed = signedImagePlan(images).map((p) => p.ref);
  const named = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === 'image' && typeof x === 'string' ? named.add(x) : walk(x);
  };
  plan.forEach((p) => walk(p.objects));
  // Wildcards are Kyverno patterns, not references.
  const missing = [...named].filter((r) => inSigningRegistry(r) && !/[*?|]/.test(r) && !pushed.includes(r));
  if (missing.length) {
    throw new InputError(`manifests/cluster names ${missing.join(', ')} in the signing registry, but the boot pushes and signs only ${pushed.join(', ')}`, {
      hint: 'use one of those references, or add the image to signedImagePlan in harness/registry/names.ts',
    });
  }
}

/**
 * Boot a cluster: the provider creates the nodes, then the steps run in order
 * — images on the nodes → CNI Ready → Kyverno serving → PCI set phases →
 * zero pulls. One failure rule for every step: export the logs, delete the
 * cluster (unless keepOnFailure), throw a StepError naming the step.
 */
export async function bootCluster(opts: BootOptions = {}): Promise<BootedCluster> {
  const layout = opts.layout ?? 'pci-calico';
  const name = opts.name ?? newClusterName();
  const manifestsDir = opts.manifestsDir ?? join(REPO_ROOT, 'manifests');
  const chosen = typeof opts.images === 'object' ? opts.images : chooseImageSource(opts.images ?? 'auto', { pciSetDir: join(manifestsDir, 'cluster') });
  // Referenced images missing from the record but present in the local Docker (a partial `images build`
  // rewrote the record): load them too, loudly, rather than let the cluster try to pull.
  const present = chosen.mode === 'local' ? await presentLocally(chosen.notBuilt) : [];
  const pciSet = opts.pciSet ?? isPciLayout(layout);
  // The other CNI's images stay off the nodes (and out of this layout's bake): cni/index.ts.
  const allImages = imagesForLayout(layout, chosen, [...chosen.loadImages, ...present]);
  // Without a CNI addon, Kyverno or the PCI set (the kindnet canary), only the probe and server images run: load just those.
  const loadImages = isPciLayout(layout) || pciSet ? allImages : allImages.filter((r) => r === chosen.probeImage || r === chosen.serverImage);
  const pciSetDir = join(manifestsDir, 'cluster');
  // Bad input in the set fails here, before any node exists.
  const plan = pciSet ? planApply(loadManifestDir(pciSetDir).objects.map((o) => o.object)) : [];
  const signs = isPciLayout(layout) && setVerifiesRegistry(plan.flatMap((p) => p.objects));
  if (signs) requirePushedRegistryImages(plan, chosen);
  // Pods run the signed registry copies only when this boot pushes and signs them.
  const images = { ...chosen, loadImages, notBuilt: chosen.notBuilt.filter((r) => !present.includes(r)), ...cdeImageRefs(chosen, signs) };
  const provider = opts.provider ?? new KindProvider({ manifestsDir, loadMethod: opts.loadMethod });
  const progress = new Progress(name, opts.log ?? stderrSink);
  const log: Log = (l) => progress.log(l);
  if (isPciLayout(layout)) requireAddonManifests(images, cniOf(layout) === 'cilium' ? 'cilium' : 'calico');

  let signing: SigningSetup | undefined;
  const steps: BootStep[] = [
    { name: 'load images', run: (c) => provider.loadImages(c, images.loadImages, progress) },
    ...(signs ? [signingStep(log, (s) => (signing = s))] : []),
    ...cniSteps(layout, images, log),
    ...(isPciLayout(layout) ? [kyvernoStep(images, log)] : []),
    ...(isPciLayout(layout) && setShipsToStandIn(plan.flatMap((p) => p.objects)) ? [auditStoreStep(plan.flatMap((p) => p.objects), log)] : []),
    ...pciSetSteps(plan, log, () => signing?.publicKey),
    ...(signs ? [signedRestStep(log, () => signing)] : []),
    ...(images.expectNoPulls ? [{ name: 'assert zero image pulls', run: assertNoPulls }] : []),
  ];

  const swept = await sweepStale(log);
  if (swept.length) progress.log(`swept ${swept.length} leaked cluster(s) from crashed runs`);
  progress.log(`booting ${layout} with ${images.mode} images (node ${images.nodeImage})`);
  if (present.length) progress.log(`WARNING: not in the image record but present in local Docker, loading anyway: ${present.join(', ')}`);
  if (images.notBuilt.length) progress.log(`WARNING: referenced but not built locally (would be pulled): ${images.notBuilt.join(', ')}`);

  const destroy = async () => {
    const t0 = performance.now();
    await provider.delete(name);
    progress.log(`deleted in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  };
  let cluster: Cluster | undefined;
  try {
    cluster = await provider.create({ name, layout, images, progress, singleNode: opts.singleNode, preload: allImages });
    for (const step of steps) await progress.step(step.name, () => step.run(cluster!));
  } catch (e) {
    const err = e instanceof StepError ? e : new StepError(`${provider.name} create`, e);
    // Interrupted: the signal handler owns cleanup and exits; don't race it.
    if (isShuttingDown()) await new Promise(() => {});
    for (const l of await provider.collectLogs(name).catch(() => [])) if (!err.lookAt.includes(l)) err.lookAt.push(l);
    if (!opts.keepOnFailure) await destroy().catch(() => undefined);
    else err.lookAt.push(`cluster kept: ${cluster ? `KUBECONFIG=${cluster.kubeconfigPath}` : `${name} as far as it was created`} (remove with \`pci-harness down\`)`);
    writeTimings(name, layout, progress, err.step);
    throw err;
  }
  progress.log(`ready in ${(progress.elapsed() / 1000).toFixed(1)}s — KUBECONFIG=${cluster.kubeconfigPath}`);
  writeTimings(name, layout, progress);
  return { ...cluster, layout, timings: progress.timings, bootMs: progress.elapsed(), destroy };
}

/** Every boot's step timings, kept for the README's numbers: $CACHE/live-timings/boot-<name>.json. */
function writeTimings(name: string, layout: ClusterLayout, progress: Progress, failedStep?: string): void {
  try {
    const dir = join(cacheDir(), 'live-timings');
    mkdirSync(dir, { recursive: true });
    const data = { at: new Date().toISOString(), name, layout, ok: !failedStep, failedStep, bootMs: Math.round(progress.elapsed()), timings: progress.timings.map((t) => ({ step: t.step, ms: Math.round(t.ms) })) };
    writeFileSync(join(dir, `boot-${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
  } catch {
    // Measurements are a by-product: never fail a boot over them.
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
