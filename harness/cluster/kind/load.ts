import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec.ts';

/**
 * Copy locally built images into the nodes' containerd (namespace k8s.io), so
 * pods start with zero pulls. Only what a node lacks is imported (nothing,
 * when the images were baked into the node image: kind/bake.ts, the default).
 * Two ways to import, both measured (harness/cluster/README.md):
 *   kind — `kind load docker-image` (docker save to a tar, then per node
 *          `ctr images import --all-platforms --digests --snapshotter=<detected>`,
 *          kind pkg/cluster/nodeutils/util.go LoadImageArchive);
 *   ctr  — the same import done by us: one `docker save` per distinct missing
 *          set, streamed into each node with `docker exec -i <node> ctr ... import -`,
 *          nodes in parallel; skips kind's per-node `containerd config dump` and image-ID checks.
 */
export type LoadMethod = 'bake' | 'kind' | 'ctr';

/** How a node's missing images are imported after `kind create` ('bake' has none missing, or falls back to ctr). */
type ImportMethod = Exclude<LoadMethod, 'bake'>;

interface LoadPlan {
  kindBinary: string;
  cluster: string;
  nodes: string[];
  images: string[];
  method: ImportMethod;
  /** Scratch dir for the image tarballs (deleted after). */
  scratchDir: string;
  log: (line: string) => void;
}

/** Import into each node the images it lacks, then check that none lacks any. */
export async function loadMissingImages(plan: LoadPlan): Promise<void> {
  if (plan.images.length === 0) return;
  const missing = new Map<string, string[]>();
  await Promise.all(plan.nodes.map(async (n) => missing.set(n, await missingImages(n, plan.images))));
  const todo = [...missing].filter(([, refs]) => refs.length > 0);
  if (todo.length === 0) {
    plan.log(`all ${plan.images.length} images already on the ${plan.nodes.length} node(s)`);
    return;
  }
  // Nodes lacking the same set share one archive.
  const groups = new Map<string, { refs: string[]; nodes: string[] }>();
  for (const [node, refs] of todo) {
    const key = refs.join(' ');
    groups.set(key, { refs, nodes: [...(groups.get(key)?.nodes ?? []), node] });
  }
  for (const [i, g] of [...groups.values()].entries()) {
    plan.log(`importing ${g.refs.length} image(s) into ${g.nodes.join(', ')} (${plan.method})`);
    if (plan.method === 'kind') await run(plan.kindBinary, ['load', 'docker-image', '--name', plan.cluster, '--nodes', g.nodes.join(','), ...g.refs]);
    else await importWithCtr(g.nodes, g.refs, join(plan.scratchDir, `images-${i}.tar`));
  }
  for (const node of plan.nodes) {
    const still = await missingImages(node, plan.images);
    if (still.length > 0) throw new Error(`node ${node} still lacks ${still.join(', ')} after loading`);
  }
}

async function importWithCtr(nodes: string[], images: string[], tar: string): Promise<void> {
  mkdirSync(join(tar, '..'), { recursive: true });
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
async function missingImages(node: string, images: string[]): Promise<string[]> {
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
