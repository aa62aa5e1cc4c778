import type { Cluster } from './provider.ts';

/**
 * Readiness waits, all through kubectl (`wait`, `rollout status`): upstream's
 * own definitions of Ready, rather than our re-implementation. On timeout the
 * error carries what is not ready and why (pod waiting reasons).
 */

const secs = (ms: number) => `${Math.ceil(ms / 1000)}s`;

export async function waitNodesReady(cluster: Cluster, timeoutMs = 180_000): Promise<void> {
  await withDiagnosis(cluster, undefined, () => cluster.kubectl(['wait', '--for=condition=Ready', 'nodes', '--all', `--timeout=${secs(timeoutMs)}`]));
}

/** `kubectl rollout status` for one workload (`daemonset/calico-node`, `deployment/x`). */
export async function waitRollout(cluster: Cluster, namespace: string, workload: string, timeoutMs = 300_000): Promise<void> {
  await withDiagnosis(cluster, namespace, () => cluster.kubectl(['rollout', 'status', '-n', namespace, workload, `--timeout=${secs(timeoutMs)}`]));
}

/** Every Deployment, DaemonSet and StatefulSet in a namespace rolled out. */
export async function waitNamespaceRollouts(cluster: Cluster, namespace: string, timeoutMs = 300_000): Promise<string[]> {
  const { stdout } = await cluster.kubectl(['get', 'deployments,daemonsets,statefulsets', '-n', namespace, '-o', 'name']);
  const workloads = stdout.split('\n').filter(Boolean);
  for (const w of workloads) await waitRollout(cluster, namespace, w, timeoutMs);
  return workloads;
}

/** Kyverno sets Ready=True on a ClusterPolicy once its webhook is configured (kyverno pkg/policy status). */
export async function waitClusterPoliciesReady(cluster: Cluster, timeoutMs = 180_000): Promise<void> {
  const { stdout } = await cluster.kubectl(['get', 'clusterpolicies.kyverno.io', '-o', 'name']);
  if (!stdout.trim()) return;
  await withDiagnosis(cluster, 'kyverno', () => cluster.kubectl(['wait', '--for=condition=Ready', 'clusterpolicies.kyverno.io', '--all', `--timeout=${secs(timeoutMs)}`]));
}

/** Poll until a ValidatingWebhookConfiguration exists and has at least one webhook (optionally a named one). */
export async function waitValidatingWebhook(cluster: Cluster, config: string, webhook?: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not found';
  while (Date.now() < deadline) {
    const r = await cluster.kubectl(['get', 'validatingwebhookconfiguration', config, '-o', 'json'], { reject: false });
    if (r.exitCode === 0) {
      const names = ((JSON.parse(r.stdout) as { webhooks?: Array<{ name: string }> }).webhooks ?? []).map((w) => w.name);
      if (webhook ? names.includes(webhook) : names.length > 0) return;
      last = `webhooks: [${names.join(', ')}]`;
    }
    await sleep(2000);
  }
  throw new Error(`ValidatingWebhookConfiguration ${config} not ready after ${secs(timeoutMs)} (${last}${webhook ? `; want ${webhook}` : ''})`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface ContainerStatusJson {
  name: string;
  ready: boolean;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
}

export interface PodJson {
  metadata: { name: string; namespace: string };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: ContainerStatusJson[];
    initContainerStatuses?: ContainerStatusJson[];
  };
}

/** One line per pod that is not Ready, with the reason (ErrImagePull, CrashLoopBackOff, Unschedulable...). */
export function describeUnreadyPods(pods: PodJson[]): string[] {
  const out: string[] = [];
  for (const p of pods) {
    const st = p.status ?? {};
    if (st.phase === 'Succeeded') continue;
    const ready = st.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (ready) continue;
    const reasons: string[] = [];
    const sched = st.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (sched) reasons.push(`unschedulable: ${sched.message ?? sched.reason ?? ''}`);
    for (const c of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])]) {
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w) reasons.push(`${c.name}: ${w.reason ?? 'waiting'}${w.message ? ` (${w.message.slice(0, 200)})` : ''}`);
      else if (t && t.exitCode !== 0) reasons.push(`${c.name}: terminated ${t.reason ?? ''} exit ${t.exitCode}`);
      else if (!c.ready) reasons.push(`${c.name}: not ready`);
    }
    out.push(`${p.metadata.namespace}/${p.metadata.name} ${st.phase ?? '?'}: ${reasons.join('; ') || 'not ready'}`);
  }
  return out;
}

/** Run a wait; on failure append what is not ready in the namespace (or everywhere). */
async function withDiagnosis(cluster: Cluster, namespace: string | undefined, wait: () => Promise<unknown>): Promise<void> {
  try {
    await wait();
  } catch (e) {
    const scope = namespace ? ['-n', namespace] : ['-A'];
    const r = await cluster.kubectl(['get', 'pods', ...scope, '-o', 'json'], { reject: false });
    const lines = r.exitCode === 0 ? describeUnreadyPods((JSON.parse(r.stdout) as { items: PodJson[] }).items) : [];
    const msg = (e as Error).message;
    throw new Error(lines.length ? `${msg}\nnot ready:\n  ${lines.join('\n  ')}` : msg, { cause: e });
  }
}
