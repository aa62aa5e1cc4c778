import type { Cluster } from './provider.ts';

/**
 * Zero-pull assertion: in local mode every image is preloaded, so any pull
 * attempt means an image reference the build does not produce. Kubelet's
 * event reasons (k8s pkg/kubelet/events/event.go): Pulling, Pulled, Failed
 * ("Failed to pull image"), BackOff ("Back-off pulling image"), ErrImagePull /
 * ImagePullBackOff as waiting reasons. "Pulled" with "already present on
 * machine" is not a pull.
 */
export interface EventJson {
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; namespace?: string; name?: string };
}

/**
 * The live lane's own registry beside the cluster (harness/registry/names.ts
 * REGISTRY_HOST): a successful pull from it is local by design (signed
 * images), not a pull from outside. A failed pull from it still counts.
 */
const LOCAL_REGISTRY_IMAGE = /image "registry\.pci\.internal:5000\//;

export function isPullEvent(e: EventJson): boolean {
  const reason = e.reason ?? '';
  const msg = e.message ?? '';
  if ((reason === 'Pulling' || reason === 'Pulled') && LOCAL_REGISTRY_IMAGE.test(msg)) return false;
  if (reason === 'Pulling' || reason === 'ErrImagePull' || reason === 'ImagePullBackOff') return true;
  if (reason === 'Pulled') return !/already present on machine/i.test(msg);
  if (reason === 'Failed' || reason === 'BackOff') return /pull/i.test(msg);
  return false;
}

export function describePullEvent(e: EventJson): string {
  const o = e.involvedObject ?? {};
  return `${o.namespace ?? '-'}/${o.kind ?? '?'}/${o.name ?? '?'}: ${e.reason}: ${e.message ?? ''}`;
}

/** Every pull-related event in every namespace, as readable lines (empty = no pulls). */
export async function findPulls(cluster: Cluster): Promise<string[]> {
  const { stdout } = await cluster.kubectl(['get', 'events', '-A', '-o', 'json']);
  const events = (JSON.parse(stdout) as { items: EventJson[] }).items;
  return events.filter(isPullEvent).map(describePullEvent);
}

export async function assertNoPulls(cluster: Cluster): Promise<void> {
  const pulls = await findPulls(cluster);
  if (pulls.length > 0) {
    throw new Error(
      `the cluster tried to pull ${pulls.length} time(s) — an image it needs is not preloaded:\n  ${pulls.slice(0, 20).join('\n  ')}\n` +
        '  hint: the image reference must match one in the image record exactly (scripts/images); rebuild or fix the manifest',
    );
  }
}
