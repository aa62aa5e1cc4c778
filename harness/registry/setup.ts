import { run } from '../cluster/exec.ts';
import { nodeNamesOf } from '../cluster/kind/docker.ts';
import { startRegistry, type RunningRegistry } from './container.ts';
import { keyPair } from './cosign.ts';
import { clusterImageRef, hostsToml, hostsTomlPath, REGISTRY_ALIAS, REGISTRY_HOST, REGISTRY_NAMESPACE, signedImagePlan } from './names.ts';
import { OciRegistry } from './oci.ts';

/**
 * The live lane's supply chain, once per cluster (a boot step): the registry
 * beside the cluster, containerd on every node told to pull from it over
 * HTTP, a key pair for this run only, the set's server image and the
 * harness's probe image pushed and signed by digest. The private key is
 * deleted before this returns; only the public key leaves (into the
 * verifyImages policy).
 */
export interface SignedImage {
  repo: string;
  tag: string;
  /** By tag, as the cluster names it (`registry.pci.internal:5000/pci/server:v1`). */
  ref: string;
  digest: string;
}

export interface SigningSetup {
  registry: RunningRegistry;
  publicKey: string;
  /** The signed server image (the CDE workloads' image), by tag and by digest. */
  signed: SignedImage;
  /** Every image pushed and signed: the server and the harness's probe. */
  images: SignedImage[];
  timings: Array<{ step: string; ms: number }>;
}

// The test reads the signed repository and tag from here (the names live in names.ts).
export { SIGNED_REPO, SIGNED_TAG } from './names.ts';

async function timed<T>(timings: SigningSetup['timings'], step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings.push({ step, ms: Math.round(performance.now() - t0) });
  }
}

/**
 * containerd reads certs.d at every pull, so no restart; the kind node image
 * must use that directory (config_path), checked here rather than assumed.
 */
export async function configureNodes(cluster: string): Promise<string[]> {
  const nodes = await nodeNamesOf(cluster);
  if (nodes.length === 0) throw new Error(`no node containers for cluster ${cluster}`);
  await Promise.all(
    nodes.map(async (n) => {
      const cfg = (await run('docker', ['exec', n, 'cat', '/etc/containerd/config.toml'])).stdout;
      if (!/config_path\s*=\s*"\/etc\/containerd\/certs\.d"/.test(cfg)) throw new Error(`node ${n}: containerd's config.toml does not set config_path = "/etc/containerd/certs.d"; hosts.toml for ${REGISTRY_HOST} would be ignored`);
      const path = hostsTomlPath();
      await run('docker', ['exec', '-i', n, 'sh', '-c', `mkdir -p "$(dirname '${path}')" && cat > '${path}'`], { input: hostsToml() });
      // The node resolves the alias through Docker's embedded DNS (what containerd will use).
      const dns = await run('docker', ['exec', n, 'getent', 'hosts', REGISTRY_ALIAS], { reject: false });
      if (dns.exitCode !== 0) throw new Error(`node ${n} cannot resolve ${REGISTRY_ALIAS} (Docker's embedded DNS on network ${cluster}): getent exit ${dns.exitCode}`);
    }),
  );
  return nodes;
}

/** `docker push` through the mapped port (Docker trusts 127.0.0.0/8 over HTTP); the local tag is removed after. */
export async function pushLocalImage(registry: { hostPort: number }, localRef: string, repo: string, tag: string): Promise<void> {
  const hostRef = `127.0.0.1:${registry.hostPort}/${REGISTRY_NAMESPACE}/${repo}:${tag}`;
  await run('docker', ['tag', localRef, hostRef]);
  try {
    await run('docker', ['push', hostRef], { timeoutMs: 180_000 });
  } finally {
    await run('docker', ['rmi', hostRef], { reject: false });
  }
}

export async function setUpSigning(cluster: { name: string; images: { serverImage: string; probeImage: string } }, log: (l: string) => void = () => {}): Promise<SigningSetup> {
  const timings: SigningSetup['timings'] = [];
  const registry = await timed(timings, 'start registry', () => startRegistry(cluster.name));
  try {
    const nodes = await timed(timings, 'containerd hosts.toml on every node', () => configureNodes(cluster.name));
    log(`registry ${REGISTRY_HOST} (${registry.container}, host port ${registry.hostPort}); hosts.toml on ${nodes.length} node(s)`);
    const plan = signedImagePlan(cluster.images);
    // The pushes share nothing but the registry: in parallel.
    await timed(timings, `push ${plan.map((p) => p.repo).join(' + ')} images`, () => Promise.all(plan.map((p) => pushLocalImage(registry, p.local, p.repo, p.tag))));
    const oci = new OciRegistry(registry.hostUrl);
    const images: SignedImage[] = [];
    for (const p of plan) {
      const digest = await oci.digestOf(`${REGISTRY_NAMESPACE}/${p.repo}`, p.tag);
      if (!digest) throw new Error(`pushed ${p.local} as ${p.repo}:${p.tag} but the registry does not list it`);
      images.push({ repo: p.repo, tag: p.tag, ref: p.ref, digest });
    }
    let publicKey: string;
    {
      await using key = await timed(timings, 'generate key pair', () => keyPair());
      // By digest, so the signature names the content pushed, not whatever the tag points at later.
      await timed(timings, 'cosign sign', () => key.sign(images.map((i) => clusterImageRef(i.repo, i.digest)), { network: registry.network, image: cluster.images.probeImage }));
      publicKey = key.publicKey;
    }
    for (const i of images) log(`signed ${i.ref}@${i.digest} (per-run key; private key deleted)`);
    return { registry, publicKey, signed: images[0]!, images, timings };
  } catch (e) {
    await registry.dispose();
    throw e;
  }
}
