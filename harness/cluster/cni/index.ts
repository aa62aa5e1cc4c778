/**
 * Which CNI a layout runs and how boot installs it: the one place the layouts
 * differ. pci-calico and pci-cilium are the same cluster (3 nodes, CDE worker,
 * Kyverno, the PCI set) with a different NetworkPolicy engine; kindnet is the
 * "not enforced" canary cluster.
 */
import { readFileSync } from 'node:fs';
import { referencedImages, type ImageSource } from '../images.ts';
import type { Cluster, ClusterLayout } from '../provider.ts';
import { waitNodesReady, waitRollout } from '../readiness.ts';
import { installCalico } from './calico.ts';
import { installCilium } from './cilium.ts';

export type Cni = 'calico' | 'cilium' | 'kindnet';

const CNI_OF: Record<ClusterLayout, Cni> = { 'pci-calico': 'calico', 'pci-cilium': 'cilium', kindnet: 'kindnet' };

export function cniOf(layout: ClusterLayout): Cni {
  return CNI_OF[layout];
}

/** Layouts that carry the PCI cluster (Kyverno, signing registry, the PCI set): every one but the kindnet canary. */
export function isPciLayout(layout: ClusterLayout): layout is 'pci-calico' | 'pci-cilium' {
  return layout !== 'kindnet';
}

/** The live lane's CNI choice (PCI_LIVE_CNI=calico|cilium, `pci-harness run --cni`) → its layout. */
export function layoutForCni(cni: string): 'pci-calico' | 'pci-cilium' {
  if (cni === 'calico' || cni === 'cilium') return `pci-${cni}`;
  throw new Error(`CNI "${cni}": use calico or cilium`);
}

/** Human name + version for reports: `Calico v3.30.1`, `Cilium v1.19.7`, from the image a layout runs. */
export function cniTitle(cni: Cni, imageRef?: string): string {
  const name = { calico: 'Calico', cilium: 'Cilium', kindnet: 'kindnet' }[cni];
  const tag = imageRef && imageRef.lastIndexOf(':') > imageRef.lastIndexOf('/') ? imageRef.slice(imageRef.lastIndexOf(':') + 1) : '';
  return tag ? `${name} ${tag}` : name;
}

export interface CniStep {
  name: string;
  run(cluster: Cluster): Promise<void>;
}

/** The boot step(s) that bring a layout's CNI up (nodes Ready afterwards). */
export function cniSteps(layout: ClusterLayout, images: ImageSource, log: (line: string) => void): CniStep[] {
  switch (cniOf(layout)) {
    case 'calico':
      return [{ name: 'Calico', run: (c) => installCalico(c, images, log) }];
    case 'cilium':
      return [{ name: 'Cilium', run: (c) => installCilium(c, images, log) }];
    case 'kindnet':
      // kind's own default CNI (or the provider's stand-in for it), installed by the provider at create.
      return [
        {
          name: 'kindnet',
          run: async (c) => {
            await waitNodesReady(c);
            if (images.defaultCni === 'kindnetd') await waitRollout(c, 'kube-system', 'daemonset/kindnet');
          },
        },
      ];
  }
}

/**
 * The images a layout's nodes carry: `refs` minus those only the OTHER CNI's
 * manifest names (calico-node on a Cilium cluster, the Cilium agent on a
 * Calico or kindnet one). Keeps the Calico bake as it was before Cilium
 * existed, and keeps Cilium's clang-carrying agent off Calico nodes.
 */
export function imagesForLayout(layout: ClusterLayout, images: Pick<ImageSource, 'calicoManifest' | 'ciliumManifest'>, refs: readonly string[], read: (file: string) => string = (f) => readFileSync(f, 'utf8')): string[] {
  // Upstream manifests are URLs (and upstream has no Cilium): nothing to tell apart then.
  const of = (file: string | undefined) => new Set(file && !/^https?:\/\//.test(file) ? referencedImages([read(file)]) : []);
  const calico = of(images.calicoManifest);
  const cilium = of(images.ciliumManifest);
  const foreign = cniOf(layout) === 'cilium' ? calico : cilium;
  const own = cniOf(layout) === 'cilium' ? cilium : calico;
  return refs.filter((r) => !foreign.has(r) || own.has(r));
}

/** The CNI the live lane asks for: PCI_LIVE_CNI=calico|cilium (default calico); a typo is an error, never a silent fallback. */
export function liveCniFromEnv(env: NodeJS.ProcessEnv = process.env): 'calico' | 'cilium' | undefined {
  const v = env.PCI_LIVE_CNI;
  if (!v) return undefined;
  if (v === 'calico' || v === 'cilium') return v;
  throw new Error(`PCI_LIVE_CNI="${v}": use calico or cilium`);
}

/**
 * The CNI a running cluster has, from its kube-system DaemonSets (calico-node,
 * cilium, kindnet): for a cluster the live lane attaches to rather than boots.
 * undefined when none of them is there.
 */
export async function detectCni(cluster: Pick<Cluster, 'kubectl'>): Promise<Cni | undefined> {
  const r = await cluster.kubectl(['get', 'daemonsets', '-n', 'kube-system', '-o', 'name'], { reject: false });
  const names = new Set(r.stdout.split('\n').map((l) => l.trim().replace(/^daemonset\.apps\//, '')));
  if (names.has('cilium')) return 'cilium';
  if (names.has('calico-node')) return 'calico';
  if (names.has('kindnet')) return 'kindnet';
  return undefined;
}
