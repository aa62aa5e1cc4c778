/**
 * `pci-harness run --manifests X`: the live lane on a user's own set. The set
 * is loaded once (any input `check` takes), laid out for the boot and the
 * live files outside the evidence package (a user's encryption config may
 * hold a real key), the images it names are checked before any node exists,
 * and only the live files that derive their attacks from the set run; the
 * rest are reported NOT TESTED (harness/scenario/set-coverage.ts).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deleteOnInterrupt } from '../../harness/cluster/cleanup.ts';
import { chooseImageSource, type ImageMode } from '../../harness/cluster/images.ts';
import { presentLocally } from '../../harness/cluster/kind/docker.ts';
import { writeLiveDir, type LiveDir } from '../../harness/manifests/live-dir.ts';
import { loadManifests, type SourceOptions } from '../../harness/manifests/sources.ts';
import type { ManifestSet } from '../../harness/manifests/types.ts';
import { isShippedOnly } from '../../harness/scenario/set-coverage.ts';
import { cacheDir } from '../../harness/tools/locate.ts';
import { REPO_ROOT } from './paths.ts';

export interface UserSet {
  /** As given on the command line (reports name it). */
  label: string;
  set: ManifestSet;
  /** Unregisters the interrupt deletion once dispose removed the dir. */
  forget?: () => void;
  /** Written by layOut; removed by dispose. */
  live?: LiveDir;
}

export function loadUserSet(arg: string, opts: SourceOptions): UserSet {
  return { label: arg, set: loadManifests(arg, opts).set };
}

/**
 * The live dir for one run: under the cache, never inside the package. It may hold the user's
 * encryption key, so it is registered for deletion on SIGINT/SIGTERM before it is written.
 */
export function layOut(u: UserSet, runId: string): LiveDir {
  const dir = join(cacheDir(), 'runs', 'live-sets', runId);
  mkdirSync(join(cacheDir(), 'runs', 'live-sets'), { recursive: true });
  u.forget = deleteOnInterrupt(`your laid-out set ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
  u.live = writeLiveDir(u.set, dir, join(REPO_ROOT, 'manifests'));
  return u.live;
}

export function disposeLiveDir(u: UserSet): void {
  if (u.live) rmSync(u.live.dir, { recursive: true, force: true });
  u.forget?.();
}

/**
 * Images the set names that this machine cannot provide: not built by the
 * image recipes and not in the local Docker (a `docker load`ed image is
 * loaded onto the nodes like a built one). Each would be a pull the air gap
 * refuses, so the run stops before boot and lists them.
 */
export async function unavailableImages(live: LiveDir, mode: ImageMode | 'auto'): Promise<string[]> {
  const src = chooseImageSource(mode, { pciSetDir: join(live.dir, 'cluster') });
  if (src.mode !== 'local') return [];
  const present = new Set(await presentLocally(src.notBuilt));
  return src.notBuilt.filter((r) => !present.has(r));
}

/** The live files that run on a user's set (the rest are NOT TESTED there, with their reason). */
export function filesForUserSet(files: readonly string[]): string[] {
  return files.filter((f) => !isShippedOnly(f));
}
