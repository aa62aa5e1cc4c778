import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootCluster, type BootedCluster } from '../../harness/cluster/boot.ts';
import { requireEnforcement, runCanary, type CanaryResult } from '../../harness/cluster/canary.ts';
import { detectCni } from '../../harness/cluster/cni/index.ts';
import { findPulls } from '../../harness/cluster/pulls.ts';
import { writeBootReport } from '../live/support/report.ts';

/**
 * The second CNI: the pci-cilium layout (3 nodes with the CDE worker, Cilium
 * + Kyverno, images built here) boots with nothing pulled, and its canary
 * proves ingress and egress enforcement on the server's node and across
 * nodes. Without the PCI set (the live lane runs that with PCI_LIVE_CNI=cilium):
 * this file proves the layout and the CNI, not the controls.
 */
describe('pci-cilium: Cilium enforces NetworkPolicy, zero pulls', () => {
  let cluster: BootedCluster | undefined;
  let canary: CanaryResult;
  beforeAll(async () => {
    // PCI_CILIUM_TEST_NAME: a fixed cluster name (shared machines give each engineer theirs); default pci-<random>.
    cluster = await bootCluster({ layout: 'pci-cilium', images: 'local', pciSet: false, name: process.env.PCI_CILIUM_TEST_NAME });
    writeBootReport('pci-cilium-harness', { bootMs: cluster.bootMs, timings: cluster.timings });
    canary = await runCanary(cluster);
    writeBootReport('canary-cilium-harness', { verdict: canary.verdict, ms: canary.ms, steps: canary.steps });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('runs Cilium (and not Calico) on every node', async () => {
    expect(await detectCni(cluster!)).toBe('cilium');
    const ds = JSON.parse((await cluster!.kubectl(['get', 'daemonset', 'cilium', '-n', 'kube-system', '-o', 'json'])).stdout) as { status: { desiredNumberScheduled: number; numberReady: number } };
    const nodes = (JSON.parse((await cluster!.kubectl(['get', 'nodes', '-o', 'json'])).stdout) as { items: unknown[] }).items.length;
    expect(nodes).toBe(3);
    expect(ds.status).toMatchObject({ desiredNumberScheduled: nodes, numberReady: nodes });
  });

  it('canary: enforced for ingress and egress, same-node and cross-node', async () => {
    expect(canary.verdict, canary.detail).toBe('enforced');
    expect([...canary.proven].sort()).toEqual(['egress cross-node', 'egress same-node', 'ingress cross-node', 'ingress same-node']);
    for (const s of canary.steps) expect(s.observed, `${s.step} ${s.client}: ${s.detail}`).toBe(s.expected);
    await expect(requireEnforcement(cluster!)).resolves.toMatchObject({ verdict: 'enforced' });
  });

  it('nothing was pulled, canary pods included', async () => {
    expect(await findPulls(cluster!)).toEqual([]);
  });
});
