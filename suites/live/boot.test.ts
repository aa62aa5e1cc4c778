import { describe, expect, it } from 'vitest';
import { KYVERNO_RESOURCE_WEBHOOK_CONFIG } from '../../harness/cluster/boot.ts';
import { findPulls } from '../../harness/cluster/pulls.ts';
import { inScopeNamespaces } from '../../harness/analyzers/workloads.ts';
import { loadManifestDir } from '../../harness/manifests/load.ts';
import { liveManifestsDir } from '../../harness/scenario/context.ts';
import { sharedCluster } from './support/shared.ts';

/** (a) The shared cluster booted as the PCI design says, with nothing pulled. */
interface NodeJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { taints?: Array<{ key: string; value?: string; effect: string }> };
  status: { conditions: Array<{ type: string; status: string }> };
}

const json = async <T>(args: string[]): Promise<T> => JSON.parse((await sharedCluster().kubectl([...args, '-o', 'json'])).stdout) as T;

describe('boot: the shared PCI cluster', () => {
  it('every node is Ready', async () => {
    const nodes = (await json<{ items: NodeJson[] }>(['get', 'nodes'])).items;
    expect(nodes.length).toBeGreaterThanOrEqual(2);
    for (const n of nodes) expect(n.status.conditions.find((c) => c.type === 'Ready')?.status, n.metadata.name).toBe('True');
  });

  it('exactly one CDE worker, labelled pci-scope=in-scope and tainted pci-scope=in-scope:NoSchedule', async () => {
    const nodes = (await json<{ items: NodeJson[] }>(['get', 'nodes'])).items;
    const cde = nodes.filter((n) => n.metadata.labels?.['pci-scope'] === 'in-scope');
    expect(cde).toHaveLength(1);
    expect(cde[0]!.spec.taints).toEqual(expect.arrayContaining([{ key: 'pci-scope', value: 'in-scope', effect: 'NoSchedule' }]));
  });

  // The CNI the live lane booted (PCI_LIVE_CNI, set by the global setup): its agent DaemonSet.
  const cni = process.env.PCI_LIVE_CNI === 'cilium' ? { name: 'Cilium', ds: 'cilium' } : { name: 'Calico', ds: 'calico-node' };
  it(`${cni.name} is Ready: ${cni.ds} on every node`, async () => {
    const ds = await json<{ status: { desiredNumberScheduled: number; numberReady: number } }>(['get', 'daemonset', cni.ds, '-n', 'kube-system']);
    const nodes = (await json<{ items: unknown[] }>(['get', 'nodes'])).items.length;
    expect(ds.status.desiredNumberScheduled).toBe(nodes);
    expect(ds.status.numberReady).toBe(nodes);
  });

  it('Kyverno is Ready: deployments available, every ClusterPolicy Ready, Fail webhook registered', async () => {
    const deps = (await json<{ items: Array<{ metadata: { name: string }; spec: { replicas: number }; status: { availableReplicas?: number } }> }>(['get', 'deployments', '-n', 'kyverno'])).items;
    expect(deps.length).toBeGreaterThan(0);
    for (const d of deps) expect(d.status.availableReplicas ?? 0, d.metadata.name).toBe(d.spec.replicas);
    const policies = (await json<{ items: Array<{ metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } }> }>(['get', 'clusterpolicies.kyverno.io'])).items;
    expect(policies.length).toBeGreaterThan(0);
    for (const p of policies) expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, p.metadata.name).toBe('True');
    const hooks = (await json<{ webhooks?: Array<{ name: string }> }>(['get', 'validatingwebhookconfiguration', KYVERNO_RESOURCE_WEBHOOK_CONFIG])).webhooks ?? [];
    expect(hooks.map((h) => h.name)).toContain('validate.kyverno.svc-fail');
  });

  it("the set's CDE workloads run on the CDE node", async () => {
    // The set under attack's own workloads (shipped or a user's): pods whose owner chain starts at one of its controllers.
    const set = loadManifestDir(liveManifestsDir());
    const cde = new Set(inScopeNamespaces(set));
    const controllers = set.objects.filter((o) => cde.has(o.object.metadata.namespace ?? '') && ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.object.kind));
    const ownPod = (p: { metadata: { name: string; namespace: string } }) => controllers.some((c) => c.object.metadata.namespace === p.metadata.namespace && p.metadata.name.startsWith(`${c.object.metadata.name}-`));
    const pods = (await json<{ items: Array<{ metadata: { name: string; namespace: string }; spec: { nodeName?: string } }> }>(['get', 'pods', '-A'])).items.filter(ownPod);
    const nodes = (await json<{ items: NodeJson[] }>(['get', 'nodes'])).items;
    const cdeNode = nodes.find((n) => n.metadata.labels?.['pci-scope'] === 'in-scope')!.metadata.name;
    expect(controllers.length, 'the set has CDE workloads').toBeGreaterThan(0);
    expect(pods.length).toBeGreaterThanOrEqual(controllers.length);
    for (const p of pods) expect(p.spec.nodeName, `${p.metadata.namespace}/${p.metadata.name}`).toBe(cdeNode);
  });

  it('zero image pulls anywhere (every image was preloaded)', async () => {
    const c = sharedCluster();
    if (!c.images.expectNoPulls) return; // upstream images are pulled by design
    expect(await findPulls(c)).toEqual([]);
  });
});
