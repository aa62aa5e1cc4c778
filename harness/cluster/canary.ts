import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AGENT, agentProbeArgs, classifyAgentLine, parseAgentOutput, type AgentTarget } from '../scenario/agent.ts';
import { pollUntil } from '../scenario/poll.ts';
import { cacheDir } from '../tools/locate.ts';
import { deletePod, podIP, runPod, type HarnessPodOptions } from './pods.ts';
import type { Outcome } from './probe.ts';
import type { Cluster } from './provider.ts';

/**
 * Enforcement canary (netpol-testing.md §9): prove the CNI enforces
 * NetworkPolicy before any network result is believed — per DIRECTION
 * (ingress and egress) and per PLACEMENT (a client on the server's node, and
 * one on another node; the server on the CDE node when the cluster has one).
 * In a scratch namespace: baseline allowed → deny-ingress blocks both clients
 * → removal allows → deny-egress blocks both → removal allows.
 *   enforced      — every step as expected, every direction and placement
 *   not-enforced  — baselines fine, but a deny did not block
 *   check-failed  — the instrument broke (baseline not allowed, pod failed...)
 * Computed once per cluster and cached on disk, so every scenario file (each
 * its own vitest worker) shares one canary.
 */
export type CanaryVerdict = 'enforced' | 'not-enforced' | 'check-failed';

export interface CanaryStep {
  step: 'baseline' | 'deny-ingress' | 'ingress-removed' | 'deny-egress' | 'egress-removed';
  client: 'same-node' | 'cross-node';
  expected: Exclude<Outcome, 'check-failed'>;
  observed: Outcome;
  detail: string;
  attempts: number;
}

export interface CanaryResult {
  verdict: CanaryVerdict;
  detail: string;
  steps: CanaryStep[];
  /** What was proven: `ingress same-node`, `egress cross-node`, ... */
  proven: string[];
  serverNode?: string;
  ms: number;
}

const SERVER_PORT = 8080;

export function denyAll(namespace: string, direction: 'Ingress' | 'Egress', selector: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `canary-deny-${direction.toLowerCase()}`, namespace },
    spec: { podSelector: { matchLabels: selector }, policyTypes: [direction] },
  };
}

/** Decide the verdict from the observed steps. Pure: unit-tested. */
export function canaryVerdict(steps: readonly CanaryStep[], expectedSteps: number): { verdict: CanaryVerdict; detail: string; proven: string[] } {
  const fmt = (s: CanaryStep) => `${s.step} (${s.client}): expected ${s.expected}, observed ${s.observed} — ${s.detail}`;
  const broken = steps.find((s) => s.observed === 'check-failed' || (s.expected === 'allowed' && s.observed !== 'allowed'));
  if (broken) return { verdict: 'check-failed', detail: `the canary's instrument broke: ${fmt(broken)}`, proven: [] };
  const leak = steps.find((s) => s.expected === 'blocked' && s.observed === 'allowed');
  if (leak) return { verdict: 'not-enforced', detail: `a deny-all NetworkPolicy did not block traffic: ${fmt(leak)}`, proven: [] };
  if (steps.length < expectedSteps) return { verdict: 'check-failed', detail: `only ${steps.length} of ${expectedSteps} canary steps ran`, proven: [] };
  const proven = [...new Set(steps.filter((s) => s.expected === 'blocked').map((s) => `${s.step === 'deny-ingress' ? 'ingress' : 'egress'} ${s.client}`))];
  return { verdict: 'enforced', detail: `allowed → blocked → allowed, for ${proven.join(', ')}`, proven };
}

interface NodeJson {
  items: Array<{ metadata: { name: string; labels?: Record<string, string> }; spec: { taints?: Array<{ key: string; effect: string }> } }>;
}

export async function runCanary(cluster: Cluster): Promise<CanaryResult> {
  const t0 = Date.now();
  const ns = `pci-canary-${randomBytes(3).toString('hex')}`;
  const steps: CanaryStep[] = [];
  let serverNode: string | undefined;
  try {
    const nodes = (JSON.parse((await cluster.kubectl(['get', 'nodes', '-o', 'json'])).stdout) as NodeJson).items;
    const cde = nodes.find((n) => n.metadata.labels?.['pci-scope'] === 'in-scope');
    const schedulable = (n: NodeJson['items'][number]) => !(n.spec.taints ?? []).some((t) => t.effect === 'NoSchedule');
    const server = cde ?? nodes.find(schedulable) ?? nodes[0];
    if (!server) throw new Error('the cluster has no nodes');
    serverNode = server.metadata.name;
    const other = nodes.find((n) => n !== server && schedulable(n));
    const pin = (n: NodeJson['items'][number]): Partial<HarnessPodOptions> => ({
      nodeSelector: { 'kubernetes.io/hostname': n.metadata.name },
      tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
    });
    const serve = [AGENT, 'serve', '--tcp', String(SERVER_PORT)];
    await cluster.kubectl(['create', 'namespace', ns]);
    const clients: Array<{ name: string; client: CanaryStep['client'] }> = [{ name: 'client-same', client: 'same-node' }];
    if (other) clients.push({ name: 'client-cross', client: 'cross-node' });
    await Promise.all([
      runPod(cluster, { namespace: ns, name: 'server', image: cluster.images.probeImage, command: serve, labels: { canary: 'server' }, ...pin(server) }),
      runPod(cluster, { namespace: ns, name: 'client-same', image: cluster.images.probeImage, command: serve, labels: { canary: 'client' }, ...pin(server) }),
      ...(other ? [runPod(cluster, { namespace: ns, name: 'client-cross', image: cluster.images.probeImage, command: serve, labels: { canary: 'client' }, ...pin(other) })] : []),
    ]);
    const target: AgentTarget = { id: 'canary', proto: 'http', host: await podIP(cluster, ns, 'server'), port: SERVER_PORT };
    await runCanarySteps({ cluster, namespace: ns, server: 'server', clients, target, steps, write: 'apply' });
    return { ...canaryVerdict(steps, 5 * clients.length), steps, serverNode, ms: Date.now() - t0 };
  } catch (e) {
    return { verdict: 'check-failed', detail: `canary could not run: ${(e as Error).message}`, steps, proven: [], ...(serverNode ? { serverNode } : {}), ms: Date.now() - t0 };
  } finally {
    await Promise.all(['server', 'client-same', 'client-cross'].map((p) => deletePod(cluster, ns, p)));
    await cluster.kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'], { reject: false });
  }
}

/**
 * The canary's steps on pods already running: baseline allowed → deny-all
 * ingress on the server → blocked → removed → allowed → deny-all egress on the
 * clients → blocked → removed → allowed, every client at every step, each
 * step only when the previous ones held (a broken baseline makes the rest
 * meaningless). Shared by the booted cluster's canary and the existing-cluster
 * mode's (harness/existing/canary.ts), which may only `create` in its own
 * namespace.
 */
export async function runCanarySteps(o: {
  cluster: Cluster;
  namespace: string;
  /** The server pod's name (the answer the probe must come from). */
  server: string;
  clients: ReadonlyArray<{ name: string; client: CanaryStep['client'] }>;
  target: AgentTarget;
  /** Appended to as each step is observed. */
  steps: CanaryStep[];
  write: 'apply' | 'create';
}): Promise<void> {
  const { cluster, namespace: ns, clients, target, steps } = o;
  const probeOnce = async (client: string) => {
    const r = await cluster.kubectl(['exec', '-i', '-n', ns, client, '--', ...agentProbeArgs(2000)], { input: JSON.stringify([target]), reject: false, timeoutMs: 30_000 });
    return classifyAgentLine(parseAgentOutput(r.stdout).lines.get('canary'), target, { kind: 'pod', name: o.server });
  };
  const observe = async (step: CanaryStep['step'], expected: CanaryStep['expected']) => {
    await Promise.all(
      clients.map(async (c) => {
        const p = await pollUntil(() => probeOnce(c.name), (v) => v.outcome === expected, { timeoutMs: 20_000 });
        steps.push({ step, client: c.client, expected, observed: p.value.outcome, detail: p.value.detail, attempts: p.attempts });
      }),
    );
    return steps.every((s) => s.observed === s.expected);
  };
  const apply = (x: Record<string, unknown>) => cluster.kubectl([o.write, '-f', '-'], { input: stringify(x) });
  const remove = (name: string) => cluster.kubectl(['delete', 'networkpolicy', name, '-n', ns]);
  if (await observe('baseline', 'allowed')) {
    await apply(denyAll(ns, 'Ingress', { canary: 'server' }));
    if (await observe('deny-ingress', 'blocked')) {
      await remove('canary-deny-ingress');
      if (await observe('ingress-removed', 'allowed')) {
        await apply(denyAll(ns, 'Egress', { canary: 'client' }));
        if (await observe('deny-egress', 'blocked')) {
          await remove('canary-deny-egress');
          await observe('egress-removed', 'allowed');
        }
      }
    }
  }
}

/** A network check may only pass on a cluster whose canary says enforced. */
export class EnforcementError extends Error {
  readonly canary: CanaryResult;
  constructor(cluster: string, canary: CanaryResult) {
    super(
      `NetworkPolicy is ${canary.verdict === 'not-enforced' ? 'NOT ENFORCED' : 'UNVERIFIED (canary check failed)'} on cluster ${cluster}: ${canary.detail}\n` +
        '  No network control can be reported as passing here.\n' +
        '  hint: use a CNI that enforces NetworkPolicy (the pci-calico layout); kindnet needs nfqueue, which this kernel lacks.',
    );
    this.name = 'EnforcementError';
    this.canary = canary;
  }
}

const canaryCache = new Map<string, Promise<CanaryResult>>();

/** The cluster's identity for the on-disk cache: its name and kube-system's UID (a re-created cluster never reuses a verdict). */
async function clusterKey(cluster: Cluster): Promise<string> {
  const r = await cluster.kubectl(['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}'], { reject: false });
  return `${cluster.name}-${r.stdout.trim() || 'unknown'}`;
}

/**
 * The canary, once per cluster: cached in this process and on disk
 * (`$CACHE/canary/<cluster>-<kube-system uid>.json`), so scenario files in
 * other vitest workers reuse it. Only an `enforced` verdict is cached: a broken
 * instrument is retried by the next file.
 */
export function canaryFor(cluster: Cluster): Promise<CanaryResult> {
  let p = canaryCache.get(cluster.name);
  if (!p) {
    p = (async () => {
      const file = join(cacheDir(), 'canary', `${await clusterKey(cluster)}.json`);
      if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as CanaryResult;
      const result = await runCanary(cluster);
      if (result.verdict === 'enforced') {
        mkdirSync(join(cacheDir(), 'canary'), { recursive: true });
        writeFileSync(file, JSON.stringify(result));
      }
      return result;
    })();
    canaryCache.set(cluster.name, p);
  }
  return p;
}

/**
 * Guard for every network suite: resolves with the canary when enforcement is
 * proven; throws EnforcementError otherwise, so network checks fail loudly as
 * "not enforced" instead of passing on a cluster that enforces nothing.
 */
export async function requireEnforcement(cluster: Cluster): Promise<CanaryResult> {
  const canary = await canaryFor(cluster);
  if (canary.verdict !== 'enforced') throw new EnforcementError(cluster.name, canary);
  return canary;
}

/** Status for a network check when the suite reports rather than throws. */
export function networkCheckStatus(canary: CanaryResult, observedOk: boolean): 'pass' | 'fail' | 'not-enforced' | 'check-failed' {
  if (canary.verdict === 'not-enforced') return 'not-enforced';
  if (canary.verdict === 'check-failed') return 'check-failed';
  return observedOk ? 'pass' : 'fail';
}
