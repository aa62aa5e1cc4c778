import { inject } from 'vitest';
import { attachCluster } from '../../../harness/cluster/attach.ts';
import type { Cluster } from '../../../harness/cluster/provider.ts';

/** The shared PCI cluster booted by global-setup.ts. Throws a clear error when it was not booted. */
export function sharedCluster(): Cluster {
  const ref = inject('pciCluster');
  if (!ref) throw new Error('no shared cluster: this file needs it (unset PCI_LIVE_SHARED=0)');
  return attachCluster(ref);
}
