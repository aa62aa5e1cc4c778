import { run } from '../cluster/exec.ts';
import { nodeNamesOf } from '../cluster/kind/docker.ts';
import { startRegistry, type RunningRegistry } from './container.ts';
import { keyPair, type KeyPair } from './cosign.ts';
import { clusterImageRef, hostsToml, hostsTomlPath, REGISTRY_ALIAS, REGISTRY_HOST, REGISTRY_NAMESPACE, signedImagePlan } from './names.ts';

type PlannedImage = ReturnType<typeof signedImagePlan>[number];
import { OciRegistry } from './oci.ts';

/**
 * The live lane's supply chain, once per cluster (a boot step): the registry
 * beside the cluster, containerd on every node told to pull from it over
 * HTTP, a key pair for this run only, the set's server image and the
 * harness's probe image pushed and signed by digest. The server image is
 * signed before this returns; the probe in the background (`rest`), after
 * which the private key is deleted. Only the public key leaves (into the
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
  /**
   * Every image pushed and signed (the server, then the harness's probe),
   * once the background pushes are done; rejects when one failed. Nothing
   * may run cdeProbeImage before it resolves (the boot awaits it).
   */
  rest: Promise<SignedImage[]>;
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
  let key: KeyPair | undefined;
  try {
    const nodes = await timed(timings, 'containerd hosts.toml on every node', () => configureNodes(cluster.name));
    log(`registry ${REGISTRY_HOST} (${registry.container}, host port ${registry.hostPort}); hosts.toml on ${nodes.length} node(s)`);
    const [server, ...others] = signedImagePlan(cluster.images);
    const oci = new OciRegistry(registry.hostUrl);
    const k = (key = await timed(timings, 'generate key pair', () => keyPair()));
    const pushAndSign = async (p: PlannedImage): Promise<SignedImage> => {
      await timed(timings, `push ${p.repo}`, () => pushLocalImage(registry, p.local, p.repo, p.tag));
      const digest = await oci.digestOf(`${REGISTRY_NAMESPACE}/${p.repo}`, p.tag);
      if (!digest) throw new Error(`pushed ${p.local} as ${p.repo}:${p.tag} but the registry does not list it`);
      // By digest, so the signature names the content pushed, not whatever the tag points at later.
      await timed(timings, `cosign sign ${p.repo}`, () => k.sign(clusterImageRef(p.repo, digest), { network: registry.network, image: cluster.images.probeImage }));
      log(`signed ${p.ref}@${digest} (per-run key)`);
      return { repo: p.repo, tag: p.tag, ref: p.ref, digest };
    };
    const signed = await pushAndSign(server!);
    // The workloads need only the server image: the rest is pushed and signed while the boot goes on; the key is deleted after.
    const rest = (async () => {
      try {
        const more: SignedImage[] = [];
        for (const p of others) more.push(await pushAndSign(p));
        return [signed, ...more];
      } finally {
        await k[Symbol.asyncDispose]();
        log('signing done: private key deleted');
      }
    })();
    // Awaited by the boot's last signing step; a failure surfaces there, not as an unhandled rejection.
    rest.catch(() => undefined);
    return { registry, publicKey: k.publicKey, signed, rest, timings };
  } catch (e) {
    await key?.[Symbol.asyncDispose]();
    await registry.dispose();
    throw e;
  }
}
