import { canaryVerdict, runCanarySteps, type CanaryResult, type CanaryStep } from '../cluster/canary.ts';
import { podIP, runPod } from '../cluster/pods.ts';
import type { Cluster } from '../cluster/provider.ts';
import { AGENT, type AgentTarget } from '../scenario/agent.ts';

/**
 * The enforcement canary of harness/cluster/canary.ts (same steps, same
 * verdict function), but entirely inside the run's own namespace: on a
 * cluster the harness did not create it may not make a scratch namespace of
 * its own choosing, nor pin pods onto tainted (CDE) nodes. Server and
 * clients go on untainted nodes; a cross-node client only when there are two.
 * The NetworkPolicies it applies select only its own pods, in its namespace.
 */
const PORT = 8080;

interface NodeJson {
  items: Array<{ metadata: { name: string; labels?: Record<string, string> }; spec: { taints?: Array<{ effect: string }>; unschedulable?: boolean } }>;
}

export async function runOwnCanary(cluster: Cluster, namespace: string, image: string): Promise<CanaryResult> {
  const t0 = Date.now();
  const steps: CanaryStep[] = [];
  try {
    const nodes = (JSON.parse((await cluster.kubectl(['get', 'nodes', '-o', 'json'])).stdout) as NodeJson).items.filter(
      (n) => !n.spec.unschedulable && !(n.spec.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'),
    );
    const [server, other] = nodes;
    if (!server) throw new Error('no untainted schedulable node for the canary');
    const pin = (n: string) => ({ nodeSelector: { 'kubernetes.io/hostname': n } });
    const serve = [AGENT, 'serve', '--tcp', String(PORT)];
    const clients: Array<{ name: string; client: CanaryStep['client'] }> = [{ name: 'canary-client-same', client: 'same-node' }];
    if (other) clients.push({ name: 'canary-client-cross', client: 'cross-node' });
    await Promise.all([
      runPod(cluster, { namespace, name: 'canary-server', image, command: serve, labels: { canary: 'server' }, ...pin(server.metadata.name) }),
      ...clients.map((c) => runPod(cluster, { namespace, name: c.name, image, command: serve, labels: { canary: 'client' }, ...pin(c.client === 'same-node' ? server.metadata.name : other!.metadata.name) })),
    ]);
    const target: AgentTarget = { id: 'canary', proto: 'http', host: await podIP(cluster, namespace, 'canary-server'), port: PORT };
    // Only `create`: every write of this mode goes through its guard, and it owns nothing to apply over.
    await runCanarySteps({ cluster, namespace, server: 'canary-server', clients, target, steps, write: 'create' });
    return { ...canaryVerdict(steps, 5 * clients.length), steps, serverNode: server.metadata.name, ms: Date.now() - t0 };
  } catch (e) {
    return { verdict: 'check-failed', detail: `canary could not run: ${(e as Error).message}`, steps, proven: [], ms: Date.now() - t0 };
  } finally {
    // The pods go with the namespace; removing them now frees the node for the probes.
    await cluster.kubectl(['delete', 'pod', '-n', namespace, '-l', 'canary', '--wait=false', '--ignore-not-found'], { reject: false });
  }
}
