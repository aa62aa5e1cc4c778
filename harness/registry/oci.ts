import { createHash } from 'node:crypto';

/**
 * A minimal OCI distribution client (the registry's HTTP API, distribution
 * spec v1.1) for what the supply-chain scenario does to the registry as a
 * compromised pipeline would: resolve a tag, copy an image to another
 * repository or tag, and push DIFFERENT content under a tag (a new config
 * blob, the same layers) — no docker build, nothing left in the local Docker.
 * Talks to the registry's host-mapped port (http://127.0.0.1:<port>).
 */
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

export interface Manifest {
  digest: string;
  mediaType: string;
  body: Buffer;
  json: { mediaType?: string; config: { digest: string; size: number; mediaType: string }; layers: Array<{ digest: string; size: number; mediaType: string }> };
}

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export class OciRegistry {
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  async #req(path: string, init: RequestInit = {}, ok: number[] = [200]): Promise<Response> {
    const r = await fetch(`${this.base}${path}`, init);
    if (!ok.includes(r.status)) throw new Error(`registry ${init.method ?? 'GET'} ${path}: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
    return r;
  }

  async manifest(repo: string, ref: string): Promise<Manifest> {
    const r = await this.#req(`/v2/${repo}/manifests/${ref}`, { headers: { Accept: MANIFEST_TYPES.join(', ') } });
    const body = Buffer.from(await r.arrayBuffer());
    const mediaType = (r.headers.get('content-type') ?? '').split(';')[0]!;
    if (!MANIFEST_TYPES.includes(mediaType)) throw new Error(`registry: ${repo}:${ref} is a ${mediaType}, not a single-platform image manifest`);
    return { digest: sha256(body), mediaType, body, json: JSON.parse(body.toString('utf8')) as Manifest['json'] };
  }

  /** The digest a tag points at now, or undefined when the tag does not exist. */
  async digestOf(repo: string, tag: string): Promise<string | undefined> {
    const r = await fetch(`${this.base}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MANIFEST_TYPES.join(', ') } });
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new Error(`registry HEAD ${repo}:${tag}: HTTP ${r.status}`);
    return r.headers.get('docker-content-digest') ?? undefined;
  }

  async #blob(repo: string, digest: string): Promise<Buffer> {
    return Buffer.from(await (await this.#req(`/v2/${repo}/blobs/${digest}`)).arrayBuffer());
  }

  /** Cross-repository mount (no data moves); same repository: nothing to do. */
  async #mount(from: string, to: string, digest: string): Promise<void> {
    if (from === to) return;
    await this.#req(`/v2/${to}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, { method: 'POST' }, [201]);
  }

  async #upload(repo: string, data: Buffer): Promise<string> {
    const digest = sha256(data);
    const start = await this.#req(`/v2/${repo}/blobs/uploads/`, { method: 'POST' }, [202]);
    const loc = start.headers.get('location');
    if (!loc) throw new Error(`registry: no upload location for ${repo}`);
    const url = new URL(loc, this.base);
    url.searchParams.set('digest', digest);
    await this.#req(url.pathname + url.search, { method: 'PUT', body: new Uint8Array(data), headers: { 'Content-Type': 'application/octet-stream' } }, [201]);
    return digest;
  }

  async #putManifest(repo: string, tag: string, mediaType: string, body: Buffer): Promise<string> {
    await this.#req(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: new Uint8Array(body), headers: { 'Content-Type': mediaType } }, [201]);
    return sha256(body);
  }

  /** The same image (same digest) under another repository and tag. */
  async copy(from: { repo: string; tag: string }, to: { repo: string; tag: string }): Promise<string> {
    const m = await this.manifest(from.repo, from.tag);
    for (const b of [m.json.config, ...m.json.layers]) await this.#mount(from.repo, to.repo, b.digest);
    return this.#putManifest(to.repo, to.tag, m.mediaType, m.body);
  }

  /**
   * A DIFFERENT image under `to`: the source's layers with a config that
   * carries one more label (so another digest), as a pipeline that rebuilt
   * the image would push it. Returns the new digest.
   */
  async pushVariant(from: { repo: string; tag: string }, to: { repo: string; tag: string }, label: Record<string, string>): Promise<string> {
    const m = await this.manifest(from.repo, from.tag);
    const config = JSON.parse((await this.#blob(from.repo, m.json.config.digest)).toString('utf8')) as { config?: { Labels?: Record<string, string> } };
    config.config = { ...config.config, Labels: { ...config.config?.Labels, ...label } };
    const configBytes = Buffer.from(JSON.stringify(config));
    for (const l of m.json.layers) await this.#mount(from.repo, to.repo, l.digest);
    const configDigest = await this.#upload(to.repo, configBytes);
    const manifest = { ...m.json, config: { ...m.json.config, digest: configDigest, size: configBytes.length } };
    return this.#putManifest(to.repo, to.tag, m.mediaType, Buffer.from(JSON.stringify(manifest)));
  }

  /** Is there a cosign signature (legacy `sha256-<hex>.sig` tag) for this digest in the repository? */
  async hasSignatureTag(repo: string, digest: string): Promise<boolean> {
    return (await this.digestOf(repo, `${digest.replace(':', '-')}.sig`)) !== undefined;
  }
}
