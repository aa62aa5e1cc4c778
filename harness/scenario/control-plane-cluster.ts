import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { bootCluster, type BootedCluster } from '../cluster/boot.ts';
import { controlPlaneWiring } from '../cluster/control-plane-edit.ts';

/**
 * A cluster of its own for a proof that restarts the apiserver or changes
 * its flags (key rotation, audit-log rotation) — never the shared one. One
 * control-plane node, kind's default CNI layout, no Calico, Kyverno or PCI
 * set: the proofs need only the apiserver and etcd. The kindnet layout must
 * wire the audit policy and the encryption config exactly as pci-calico does
 * (checked here, before booting), so what is proven is the set's wiring.
 */
export async function bootControlPlaneCluster(purpose: string): Promise<BootedCluster> {
  if (!isDeepStrictEqual(controlPlaneWiring('kindnet'), controlPlaneWiring('pci-calico'))) {
    throw new Error('manifests/kind/kindnet.yaml wires the control plane (extraMounts, kubeadmConfigPatches) differently from pci-calico.yaml: make them equal, or this proof would not test the set');
  }
  return bootCluster({ layout: 'kindnet', singleNode: true, pciSet: false, name: `pci-rot-${purpose}-${randomBytes(2).toString('hex')}` });
}
