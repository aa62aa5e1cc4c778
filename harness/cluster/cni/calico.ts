import { applyFile } from '../apply.ts';
import type { ImageSource } from '../images.ts';
import type { Cluster } from '../provider.ts';
import { waitNamespaceRollouts, waitNodesReady, waitRollout } from '../readiness.ts';

/** Calico (iptables dataplane, VXLAN): calico-node on every node, then the nodes Ready. */
export async function installCalico(c: Cluster, images: ImageSource, log: (line: string) => void): Promise<void> {
  await applyFile(c, images.calicoManifest, { log });
  await waitRollout(c, 'kube-system', 'daemonset/calico-node');
  await waitNodesReady(c);
  await waitNamespaceRollouts(c, 'kube-system');
}
