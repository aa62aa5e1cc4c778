import type { Cluster } from '../provider.ts';
import { run } from '../exec.ts';
import { poll } from '../readiness.ts';
import { nodeNamesOf } from './docker.ts';

/**
 * kind's default CNI without kindnetd. kindnetd's Go module is not served by
 * the module proxy these machines reach, so its image cannot be built here.
 * What kindnetd does on a node is write this ptp + host-local conflist (its
 * own format) and, on top, enforce NetworkPolicy through nfqueue — which this
 * kernel lacks, so kindnet fails open and enforces nothing here anyway. The
 * stand-in gives pods the same network with no policy engine: exactly the
 * "CNI that silently enforces nothing" the canary must catch. Single-node
 * clusters only (no cross-node routes).
 */
function kindnetConflist(podCidr: string): string {
  return JSON.stringify(
    {
      cniVersion: '0.3.1',
      name: 'kindnet',
      plugins: [
        {
          type: 'ptp',
          ipMasq: false,
          ipam: { type: 'host-local', dataDir: '/run/cni-ipam-state', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: podCidr }]] },
          mtu: 1500,
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export async function installStandInCni(cluster: Cluster): Promise<void> {
  const nodes = await nodeNamesOf(cluster.name);
  if (nodes.length !== 1) throw new Error(`the kindnet stand-in CNI supports single-node clusters only (got ${nodes.length} nodes)`);
  for (const node of nodes) {
    // kube-controller-manager's node IPAM assigns it shortly after the node registers: right after `kind create` it may not be there yet.
    let cidr = '';
    await poll(`podCIDR of node ${node}`, 60_000, async () => {
      cidr = (await cluster.kubectl(['get', 'node', node, '-o', 'jsonpath={.spec.podCIDR}'])).stdout.trim();
      return /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr) || `got "${cidr}"`;
    }, 1000);
    await run('docker', ['exec', '-i', node, 'sh', '-c', 'cat > /etc/cni/net.d/10-kindnet.conflist'], { input: kindnetConflist(cidr) });
  }
}
