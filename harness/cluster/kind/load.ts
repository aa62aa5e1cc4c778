import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec.ts';

/**
 * Copy locally built images into every node's containerd (namespace k8s.io),
 * so pods start with zero pulls. Two ways, both measured (README):
 *   kind — `kind load docker-image` (docker save to a tar, then per node
 *          `ctr images import --all-platforms --digests --snapshotter=<detected>`,
 *          kind pkg/cluster/nodeutils/util.go LoadImageArchive);
 *   ctr  — the same import done by us: one `docker save`, streamed into each
 *          node with `docker exec -i <node> ctr ... import -`, nodes in parallel;
 *          skips kind's per-node `containerd config dump` and image-ID checks.
 */
export type LoadMethod = 'kind' | 'ctr';

export async function loadImagesWithKind(kindBinary: string, cluster: string, images: string[]): Promise<void> {
  if (images.length === 0) return;
  await run(kindBinary, ['load', 'docker-image', '--name', cluster, ...images]);
}

export async function loadImagesWithCtr(nodes: string[], images: string[], scratchDir: string): Promise<void> {
  if (images.length === 0) return;
  mkdirSync(scratchDir, { recursive: true });
  const tar = join(scratchDir, 'images.tar');
  try {
    await run('docker', ['save', '-o', tar, ...images]);
    await Promise.all(
      nodes.map(async (node) => {
        // kind nodes use the overlayfs snapshotter (kind images/base/files/etc/containerd/config.toml).
        await run('docker', ['exec', '-i', node, 'ctr', '--namespace=k8s.io', 'images', 'import', '--all-platforms', '--digests', '--snapshotter=overlayfs', '-'], { inputFile: tar });
      }),
    );
  } finally {
    rmSync(tar, { force: true });
  }
}

/** Which of `images` a node's containerd lacks (by exact reference). */
export async function missingImages(node: string, images: string[]): Promise<string[]> {
  const { stdout } = await run('docker', ['exec', node, 'ctr', '--namespace=k8s.io', 'images', 'ls', '-q']);
  const have = new Set(stdout.split('\n').map((l) => l.trim()));
  // containerd stores docker.io/library/x for short names; compare normalized.
  return images.filter((i) => !have.has(i) && !have.has(normalizeRef(i)));
}

export function normalizeRef(ref: string): string {
  const firstSlash = ref.indexOf('/');
  const first = firstSlash === -1 ? '' : ref.slice(0, firstSlash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  let out = hasRegistry ? ref : `docker.io/${firstSlash === -1 ? `library/${ref}` : ref}`;
  const lastPart = out.slice(out.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !lastPart.includes('@')) out += ':latest';
  return out;
}

