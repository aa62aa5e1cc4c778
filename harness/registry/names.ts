import type { K8sObject } from '../manifests/types.ts';

/**
 * The live lane's image registry, as the cluster names it. One name for both
 * consumers: the nodes' containerd (which pulls) and Kyverno's admission
 * controller (which fetches signatures). It is a network alias of the
 * registry container on the cluster's own Docker network, so Docker's
 * embedded DNS answers it for the node containers, and pods reach it through
 * CoreDNS → the node's resolver → the same embedded DNS. Every cluster has
 * its own network (harness/cluster/kind/provider.ts), so the fixed alias
 * never names another cluster's registry.
 */
export const REGISTRY_ALIAS = 'registry.pci.internal';
/** Debian's docker-registry default (scripts/images/signing/recipe.ts REGISTRY_PORT). */
export const REGISTRY_CONTAINER_PORT = 5000;
export const REGISTRY_HOST = `${REGISTRY_ALIAS}:${REGISTRY_CONTAINER_PORT}`;
/** Where the set's own images live in that registry (the policies' `registry.pci.internal:5000/pci/*`). */
export const REGISTRY_NAMESPACE = 'pci';

/** The repository the server image is pushed to (`registry.pci.internal:5000/pci/server:v1`). */
export const SIGNED_REPO = 'server';
export const SIGNED_TAG = 'v1';
/** The harness's probe image, signed too: its positions inside CDE namespaces pass the same policies as a workload. */
export const SIGNED_PROBE_REPO = 'probe';

/**
 * What the boot pushes and signs: local image → repository and tag in the
 * registry. The ONE list: the image source's CDE references
 * (harness/cluster/images.ts) are these, as the cluster names them.
 */
export function signedImagePlan(images: { serverImage: string; probeImage: string }): Array<{ role: 'server' | 'probe'; local: string; repo: string; tag: string; ref: string }> {
  return [
    { role: 'server' as const, local: images.serverImage, repo: SIGNED_REPO, tag: SIGNED_TAG },
    { role: 'probe' as const, local: images.probeImage, repo: SIGNED_PROBE_REPO, tag: SIGNED_TAG },
  ].map((p) => ({ ...p, ref: clusterImageRef(p.repo, p.tag) }));
}

/** The placeholder in manifests/cluster/32-kyverno-verify-images.yaml. */
export const PUBLIC_KEY_PLACEHOLDER = '${COSIGN_PUBLIC_KEY}';

/** `registry.pci.internal:5000/pci/<repo>:<tag>` (or `@sha256:...`). */
export function clusterImageRef(repo: string, tagOrDigest: string): string {
  return `${REGISTRY_HOST}/${REGISTRY_NAMESPACE}/${repo}${tagOrDigest.startsWith('sha256:') ? '@' : ':'}${tagOrDigest}`;
}

/**
 * containerd's per-registry host config (config_path /etc/containerd/certs.d,
 * docs/hosts.md): pull and resolve over plain HTTP from the registry itself.
 */
export function hostsToml(host = REGISTRY_HOST): string {
  return [`server = "http://${host}"`, '', `[host."http://${host}"]`, '  capabilities = ["pull", "resolve"]', '  skip_verify = true', ''].join('\n');
}

export function hostsTomlPath(host = REGISTRY_HOST): string {
  return `/etc/containerd/certs.d/${host}/hosts.toml`;
}

const PUBLIC_PEM = /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?$/;

/**
 * The set with the cosign public key in place of `${COSIGN_PUBLIC_KEY}` (a
 * copy: the loaded set is not changed). Refuses anything that is not a PEM
 * public key, so a private key can never end up in an applied object.
 */
export function withPublicKey(objects: readonly K8sObject[], publicKeyPem: string): { objects: K8sObject[]; substituted: number } {
  const pem = publicKeyPem.replace(/\r\n/g, '\n').trim() + '\n';
  if (/PRIVATE KEY/.test(pem) || !PUBLIC_PEM.test(pem)) throw new Error('withPublicKey: the key given is not a PEM public key (-----BEGIN PUBLIC KEY-----); refusing to put it into a policy');
  let substituted = 0;
  const replace = (v: unknown): unknown => {
    if (v === PUBLIC_KEY_PLACEHOLDER) {
      substituted++;
      return pem;
    }
    if (Array.isArray(v)) return v.map(replace);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    return v;
  };
  return { objects: objects.map((o) => replace(o) as K8sObject), substituted };
}

/** Every verifyImages `imageReferences` entry of the Kyverno policies in a set. */
export function verifiedImageReferences(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    if (!o.apiVersion?.startsWith('kyverno.io/') || (o.kind !== 'ClusterPolicy' && o.kind !== 'Policy')) continue;
    const rules = ((o as { spec?: { rules?: Array<{ verifyImages?: Array<{ imageReferences?: string[] }> }> } }).spec?.rules ?? []);
    for (const r of rules) for (const v of r.verifyImages ?? []) out.push(...(v.imageReferences ?? []));
  }
  return out;
}

/** Does the set verify images in this registry at all? (the boot starts the registry only then) */
export function setVerifiesRegistry(objects: readonly K8sObject[], host = REGISTRY_HOST): boolean {
  return verifiedImageReferences(objects).some((r) => r.startsWith(`${host}/`));
}
