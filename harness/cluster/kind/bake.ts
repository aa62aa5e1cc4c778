import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteOnInterrupt, pidAlive } from '../cleanup.ts';
import { run } from '../exec.ts';
import { cacheDir } from '../paths.ts';
import { poll } from '../readiness.ts';
import { normalizeRef } from './load.ts';

/**
 * A derived kind node image whose containerd (namespace k8s.io) already holds
 * the addon and harness images — the way kind bakes kubeadm's images into its
 * node image (scripts/images/node/node-image.ts does the same for ours). Every
 * node then finds them at start: no `docker save`, no per-node import after
 * `kind create`. Blobs are imported with --no-unpack (kind's importer flags),
 * so each node unpacks only the images it actually runs, when it runs them;
 * pinned, so kubelet's image GC never removes them.
 *
 * Cached by content: the tag's key hashes the base image ID and every image's
 * ID, so a rebuilt image (new ID) makes a new bake and the old one is pruned.
 * The first boot after an image change pays the bake; later boots reuse it.
 */
const BAKED_LABEL = 'pci-harness.dev/baked-from';
const BAKED_REPO = 'pci-harness/kind-node-baked';

async function imageId(ref: string): Promise<string | undefined> {
  const r = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** Tag of the baked image for this base and image set: `pci-harness/kind-node-baked:<key12>`. */
export function bakedTag(baseId: string, images: Array<[ref: string, id: string]>): string {
  const key = createHash('sha256')
    .update(JSON.stringify([baseId, [...images].sort(([a], [b]) => a.localeCompare(b))]))
    .digest('hex');
  return `${BAKED_REPO}:${key.slice(0, 12)}`;
}

/** The baked node image for `baseRef` + `images`, built once (one bake at a time per key, across processes). */
export async function bakedNodeImage(baseRef: string, images: string[], log: (line: string) => void): Promise<string> {
  const baseId = await imageId(baseRef);
  if (!baseId) throw new Error(`node image ${baseRef} is not in the local Docker: run \`pci-harness images build\``);
  const ids: Array<[string, string]> = [];
  for (const ref of images) {
    const id = await imageId(ref);
    if (!id) throw new Error(`image ${ref} is not in the local Docker: run \`pci-harness images build\``);
    ids.push([ref, id]);
  }
  const tag = bakedTag(baseId, ids);
  if (await imageId(tag)) {
    log(`reusing ${tag} (${images.length} images in containerd)`);
    return tag;
  }
  const release = await lock(tag);
  try {
    // Another process may have baked it while we waited.
    if (!(await imageId(tag))) {
      await bake(baseRef, images, tag, log);
      mkdirSync(join(inputsFile(tag), '..'), { recursive: true });
      writeFileSync(inputsFile(tag), `${JSON.stringify({ base: [baseRef, baseId], images: ids }, null, 2)}\n`);
    }
    else log(`reusing ${tag}, baked by another process meanwhile`);
  } finally {
    release();
  }
  await pruneStaleBakes(tag, log);
  return tag;
}

async function bake(baseRef: string, images: string[], tag: string, log: (line: string) => void): Promise<void> {
  const key = tag.slice(tag.indexOf(':') + 1);
  const scratch = join(cacheDir(), 'work', 'bake');
  mkdirSync(scratch, { recursive: true });
  const tar = join(scratch, `${key}-${process.pid}.tar`);
  const container = `pci-bake-${key}-${process.pid}`;
  const unregister = deleteOnInterrupt(container, async () => {
    await run('docker', ['rm', '-f', container], { reject: false });
    rmSync(tar, { force: true });
  });
  const exec = (script: string) => run('docker', ['exec', container, 'bash', '-c', script]);
  try {
    log(`baking ${images.length} images into ${tag} (once per image set)`);
    const config = JSON.parse((await run('docker', ['image', 'inspect', '--format', '{{json .Config}}', baseRef])).stdout) as { Entrypoint?: string[] | null; Cmd?: string[] | null };
    await run('docker', ['save', '-o', tar, ...images]);
    await run('docker', ['run', '-d', '--entrypoint=sleep', `--name=${container}`, '--security-opt', 'seccomp=unconfined', '--label', `${BAKED_LABEL}=${baseRef}`, baseRef, 'infinity']);
    await exec('nohup containerd > /var/log/containerd-bake.log 2>&1 &');
    await exec('for i in $(seq 1 60); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.5; done; cat /var/log/containerd-bake.log; exit 1');
    // kind pkg/build/nodeimage/imageimporter.go flags, as the node image recipe uses.
    await run('docker', ['exec', '-i', container, 'ctr', '--namespace=k8s.io', 'images', 'import', '--label=io.cri-containerd.pinned=pinned', '--all-platforms', '--no-unpack', '--digests', '-'], { inputFile: tar });
    const listed = new Set((await exec('ctr --namespace=k8s.io images list -q')).stdout.split('\n').map((l) => l.trim()));
    const absent = images.filter((r) => !listed.has(r) && !listed.has(normalizeRef(r)));
    if (absent.length) throw new Error(`baking ${tag}: containerd lacks ${absent.join(', ')} after import`);
    // `sleep` is PID 1 and never reaps: wait until no live (non-zombie) containerd, i.e. its DB is closed.
    await exec("pkill -x containerd; for i in $(seq 1 40); do ps -C containerd -o stat= | grep -qv '^Z' || exit 0; sleep 0.5; done; exit 1");
    await run('docker', [
      'commit',
      '--change',
      `ENTRYPOINT ${JSON.stringify(config.Entrypoint ?? [])}`,
      '--change',
      `CMD ${JSON.stringify(config.Cmd ?? [])}`,
      // Not the node recipe's output: don't carry its recipe/key labels (scripts/images prunes by them).
      '--change',
      `LABEL pci-harness.dev/recipe=harness-bake pci-harness.dev/key=${key}`,
      container,
      tag,
    ]);
  } finally {
    await run('docker', ['rm', '-f', container], { reject: false });
    rmSync(tar, { force: true });
    unregister();
  }
}

/** What each baked image was made from: $CACHE/images/baked/<key>.json (base ID, [ref, ID] per image). */
function inputsFile(tag: string): string {
  return join(cacheDir(), 'images', 'baked', `${tag.slice(tag.indexOf(':') + 1)}.json`);
}

/**
 * Baked images made from images that have changed since (rebuilt: another ID)
 * or whose inputs are unknown: removed, unless a container still uses them
 * (no -f: a kept cluster's nodes keep theirs). Bakes of other, still current
 * image sets stay.
 */
async function pruneStaleBakes(keep: string, log: (line: string) => void): Promise<void> {
  const r = await run('docker', ['images', '--filter', `label=${BAKED_LABEL}`, '--format', '{{.Repository}}:{{.Tag}}'], { reject: false });
  for (const ref of r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(`${BAKED_REPO}:`) && l !== keep)) {
    let current = false;
    try {
      const inputs = JSON.parse(readFileSync(inputsFile(ref), 'utf8')) as { base: [string, string]; images: Array<[string, string]> };
      current = true;
      for (const [dep, id] of [inputs.base, ...inputs.images]) if ((await imageId(dep)) !== id) current = false;
    } catch {
      current = false;
    }
    if (current) continue;
    if ((await run('docker', ['rmi', ref], { reject: false })).exitCode === 0) {
      rmSync(inputsFile(ref), { force: true });
      log(`pruned stale ${ref}`);
    }
  }
}

/** One bake per key at a time, across processes: a lock dir holding the owner's pid; a dead owner's lock is taken over. */
async function lock(tag: string): Promise<() => void> {
  const dir = join(cacheDir(), 'images', `bake-${tag.slice(tag.indexOf(':') + 1)}.lock`);
  const pidFile = join(dir, 'pid');
  mkdirSync(join(dir, '..'), { recursive: true });
  await poll(
    `bake lock ${dir}`,
    20 * 60_000,
    async () => {
      try {
        mkdirSync(dir);
        writeFileSync(pidFile, String(process.pid));
        return true;
      } catch {
        const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
        // No pid yet: the owner is between mkdir and write — unless that was long ago (it crashed there).
        const stale = owner ? !pidAlive(owner) : Date.now() - (statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 30_000;
        if (stale) rmSync(dir, { recursive: true, force: true });
        return `held by pid ${owner || '?'}`;
      }
    },
    1000,
  );
  return () => rmSync(dir, { recursive: true, force: true });
}
