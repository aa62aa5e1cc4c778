import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageRecordPath as recordPath, loadRecord, type BuildRecord } from '../images/record.ts';
import { InputError } from '../errors.ts';
import { cacheDir, REPO_ROOT } from './paths.ts';
import { REGISTRY_HOST, signedImagePlan } from '../registry/names.ts';

/**
 * Where the cluster's images and addon manifests come from. This is the ONE
 * place the choice is made; after it, booting follows a single code path.
 *   local    — images built here from Go modules and Debian packages
 *              (scripts/images, recorded in $CACHE/images/record.json); zero pulls.
 *   upstream — kindest/node and the upstream addon manifests; the cluster pulls
 *              from registries. For users with internet access; not testable here.
 */
export type ImageMode = 'local' | 'upstream';

export interface ImageSource {
  mode: ImageMode;
  /** kind node image reference. */
  nodeImage: string;
  /** Images to copy into every node's containerd before addons start (empty upstream). */
  loadImages: string[];
  /** Images the manifests reference that the build did not produce (each would be a pull; boot warns). */
  notBuilt: string[];
  /** kind binary (path or name on PATH). */
  kindBinary: string;
  /** kubectl binary (path or name on PATH). */
  kubectlBinary: string;
  /** Calico manifest: file path or URL. */
  calicoManifest: string;
  /** Cilium manifest (file path; '' when not built, or upstream: the pci-cilium layout is local-only). */
  ciliumManifest: string;
  /** Kyverno install manifest: file path or URL. */
  kyvernoManifest: string;
  /** The probe and server images as built here (host-side Docker: cosign and outside-world containers, image builds). */
  probeImage: string;
  serverImage: string;
  /**
   * What pods run: the same images as the live lane's registry serves them,
   * pushed and signed at boot (harness/registry/), when the PCI set verifies
   * that registry — the only images the CDE's allowed-registry and
   * verifyImages rules admit. Without a registry (kindnet, a set that does
   * not verify it) the built references above.
   */
  cdeProbeImage: string;
  cdeServerImage: string;
  /** True when the cluster must not pull anything (local mode). */
  expectNoPulls: boolean;
  /**
   * kind's default CNI: the real kindnetd image (upstream, or built), or the
   * no-policy stand-in (harness/cluster/kind/stand-in-cni.ts) when kindnetd
   * could not be built here.
   */
  defaultCni: 'kindnetd' | 'stand-in';
}

export const PROBE_IMAGE = 'localhost/pci-harness/probe:v1';
export const SERVER_IMAGE = 'localhost/pci-harness/server:v1';

/** Versions that fit this machine's kernel/cgroups (shared/reference/airgap-cluster.md); used upstream only. */
export const UPSTREAM = {
  nodeImage: 'kindest/node:v1.34.0',
  calicoManifest: 'https://raw.githubusercontent.com/projectcalico/calico/v3.30.3/manifests/calico-vxlan.yaml',
  kyvernoManifest: 'https://github.com/kyverno/kyverno/releases/download/v1.16.0/install.yaml',
} as const;

/**
 * Image references in YAML text (`image: ref`, quoted or not). Used to load
 * exactly the images the addon manifests and the PCI set will run — no more
 * (the record also holds build-only images), no fewer (a missing one is a pull).
 */
export function referencedImages(yamlTexts: string[]): string[] {
  const out = new Set<string>();
  for (const text of yamlTexts) {
    for (const m of text.matchAll(/^[ \t]*-?[ \t]*image:[ \t]*["']?([^\s"'#]+)["']?/gm)) {
      // Skip placeholders and wildcard patterns (Kyverno `image: "registry/*"`).
      if (m[1] && !/[${}*?]/.test(m[1])) out.add(m[1]);
    }
  }
  return [...out].sort();
}

/**
 * The CDE references: the registry copies when the boot signs (the set
 * verifies the registry, see boot.ts), else the built images themselves.
 */
export function cdeImageRefs(images: { serverImage: string; probeImage: string }, signed: boolean): { cdeServerImage: string; cdeProbeImage: string } {
  if (!signed) return { cdeServerImage: images.serverImage, cdeProbeImage: images.probeImage };
  const plan = signedImagePlan(images);
  const ref = (role: 'server' | 'probe') => plan.find((p) => p.role === role)!.ref;
  return { cdeServerImage: ref('server'), cdeProbeImage: ref('probe') };
}

/** Images in the live lane's registry: pushed and signed at boot from the built images, never loaded or pulled from outside. */
export const inSigningRegistry = (ref: string): boolean => ref.startsWith(`${REGISTRY_HOST}/`);

/**
 * Does the set's YAML name the registry under a verifyImages imageReferences
 * entry? Text-level, for attaching to a running cluster; the boot decides on
 * the loaded objects (registry/names.ts setVerifiesRegistry) and overrides.
 */
function setVerifiesRegistryText(yamlTexts: string[]): boolean {
  const entry = new RegExp(`imageReferences:\\s*\\n\\s*-\\s*["']?${REGISTRY_HOST.replace(/\./g, '\\.')}/`);
  return yamlTexts.some((t) => /verifyImages:/.test(t) && entry.test(t));
}

function yamlTextsUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

/**
 * The image source for a boot. `auto` = local when scripts/images has written
 * its record ($CACHE/images/record.json), upstream otherwise.
 */
export function chooseImageSource(
  mode: ImageMode | 'auto' = 'auto',
  opts: { record?: BuildRecord | null; pciSetDir?: string } = {},
): ImageSource {
  // `record: null` = "no record" (tests); absent = read $CACHE/images/record.json.
  const record = 'record' in opts ? (opts.record ?? undefined) : loadRecord();
  const pciSetDir = opts.pciSetDir ?? join(REPO_ROOT, 'manifests', 'cluster');
  const resolved: ImageMode = mode === 'auto' ? (record ? 'local' : 'upstream') : mode;
  const setTexts = yamlTextsUnder(pciSetDir);
  const signed = setVerifiesRegistryText(setTexts);
  if (resolved === 'upstream') {
    return {
      mode: 'upstream',
      nodeImage: UPSTREAM.nodeImage,
      loadImages: [PROBE_IMAGE, SERVER_IMAGE],
      notBuilt: [],
      kindBinary: 'kind',
      kubectlBinary: 'kubectl',
      calicoManifest: UPSTREAM.calicoManifest,
      ciliumManifest: '',
      kyvernoManifest: UPSTREAM.kyvernoManifest,
      probeImage: PROBE_IMAGE,
      serverImage: SERVER_IMAGE,
      ...cdeImageRefs({ serverImage: SERVER_IMAGE, probeImage: PROBE_IMAGE }, signed),
      expectNoPulls: false,
      defaultCni: 'kindnetd',
    };
  }
  if (!record) {
    throw new InputError(`--images local: no image record at ${recordPath()}`, {
      hint: 'build the images first: `pci-harness images build` (or use --images upstream on a machine with registry access)',
    });
  }
  const node = record.images.find((i) => i.role === 'node');
  const need = (key: string): string => {
    const f = record.files[key]?.path;
    if (!f) {
      throw new InputError(`image record ${recordPath()} has no file "${key}"`, { hint: 'rebuild the images: `pci-harness images build`' });
    }
    return f;
  };
  if (!node) throw new InputError(`image record ${recordPath()} has no node image (role "node")`, { hint: 'rebuild the images: `pci-harness images build`' });
  const refOf = (role: string, fallback: string) => record.images.find((i) => i.role === role)?.ref ?? fallback;
  // Addon manifests are only required by layouts that install them (boot checks with requireAddonManifests).
  const calicoManifest = record.files['calico-manifest']?.path ?? '';
  const ciliumManifest = record.files['cilium-manifest']?.path ?? '';
  const kyvernoManifest = record.files['kyverno-manifest']?.path ?? '';
  const probeImage = refOf('probe', PROBE_IMAGE);
  const serverImage = refOf('server', SERVER_IMAGE);
  const wanted = new Set([
    // Registry references are pushed at boot from the built images, not loaded (boot.ts checks they are ones it pushes).
    ...referencedImages([...[calicoManifest, ciliumManifest, kyvernoManifest].filter(Boolean).map((f) => readFileSync(f, 'utf8')), ...setTexts]).filter((r) => !inSigningRegistry(r)),
    probeImage,
    serverImage,
  ]);
  const built = new Set(record.images.map((i) => i.ref));
  return {
    mode: 'local',
    // Override for trying another node image built here (e.g. a runtime fix) without rebuilding the record.
    nodeImage: process.env.PCI_HARNESS_NODE_IMAGE || node.ref,
    loadImages: [...wanted].filter((ref) => built.has(ref)).sort(),
    notBuilt: [...wanted].filter((ref) => !built.has(ref)).sort(),
    kindBinary: record.files.kind?.path ?? (existsSync(join(cacheDir(), 'bin', 'kind')) ? join(cacheDir(), 'bin', 'kind') : need('kind')),
    kubectlBinary: record.files.kubectl?.path ?? 'kubectl',
    calicoManifest,
    ciliumManifest,
    kyvernoManifest,
    probeImage,
    serverImage,
    ...cdeImageRefs({ serverImage, probeImage }, signed),
    expectNoPulls: true,
    defaultCni: record.images.some((i) => i.role === 'kindnetd') ? 'kindnetd' : 'stand-in',
  };
}

/** The pci-calico (pci-cilium) layout installs Calico (Cilium) and Kyverno: their manifests must have been built. */
export function requireAddonManifests(images: ImageSource, cni: 'calico' | 'cilium' = 'calico'): void {
  const cniManifest = cni === 'cilium' ? (['cilium-manifest', images.ciliumManifest] as const) : (['calico-manifest', images.calicoManifest] as const);
  for (const [key, value] of [cniManifest, ['kyverno-manifest', images.kyvernoManifest]] as const) {
    if (!value) {
      throw new InputError(`image record ${recordPath()} has no file "${key}" (needed by the pci-${cni} layout)`, {
        hint: images.mode === 'upstream' && cni === 'cilium'
          ? 'the pci-cilium layout runs only on locally built images: `pci-harness images build`, then --images local'
          : 'build the addon images: `pci-harness images build`',
      });
    }
  }
}
