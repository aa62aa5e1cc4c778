import { randomBytes } from 'node:crypto';
import type { Port } from '../analyzers/network/model.ts';
import type { PodTemplate } from '../analyzers/workloads.ts';
import { run, type RunOptions, type RunResult } from '../cluster/exec.ts';
import { deletePod, podIP, runPod, type HarnessPodOptions } from '../cluster/pods.ts';
import type { Cluster } from '../cluster/provider.ts';
import { AGENT, agentProbeArgs, parseAgentOutput, type AgentLine, type AgentTarget } from './agent.ts';

/**
 * Adversary positions: where an attacker stands, as disposable objects
 * (`await using p = await compromised(...)` removes the pod, whatever
 * happens). Every position runs the probe agent, so it attacks (probe) and is
 * itself a target that answers and names itself (serve).
 *
 *   compromised  code execution inside a workload: the workload's labels,
 *                ServiceAccount, node placement and named ports — but never
 *                Ready (a readiness gate nobody sets), so it is NOT an
 *                endpoint of the workload's Service and cannot answer for it
 *   outsider     a pod in a namespace outside the CDE (default: app=attacker)
 *   rogue        an unlabelled pod that an attacker managed to create inside a namespace
 *   outside-world a container on the cluster's Docker network: the internet
 */
export type PositionKind = 'compromised' | 'outsider' | 'rogue' | 'outside-world' | 'host-network';

export interface AgentRun {
  lines: Map<string, AgentLine>;
  /** The agent printed its final line: every target was probed. */
  done: boolean;
  exitCode: number;
  stderr: string;
  ms: number;
}

export interface Position extends AsyncDisposable {
  kind: PositionKind;
  /** The offline model's member id this position stands for (`ns/name`, `external:<ip>`). */
  memberId: string;
  /** Who the attacker is, in words. */
  adversary: string;
  namespace: string;
  /** Pod (or container) name = the hostname its agent reports. */
  name: string;
  ip: string;
  node?: string;
  serves: Port[];
  /** Prefix of a shell command that runs something in this position (for replay lines). */
  execPrefix: string;
  probe(targets: readonly AgentTarget[], timeoutMs: number): Promise<AgentRun>;
  dispose(): Promise<void>;
}

function serveArgs(ports: readonly Port[]): string[] {
  const tcp = [...new Set(ports.filter((p) => p.protocol === 'TCP').map((p) => p.port))];
  const udp = [...new Set(ports.filter((p) => p.protocol === 'UDP').map((p) => p.port))];
  return [AGENT, 'serve', ...(tcp.length ? ['--tcp', tcp.join(',')] : []), ...(udp.length ? ['--udp', udp.join(',')] : [])];
}

/** One agent run through `exec` (kubectl exec or docker exec): targets on stdin, never throws. */
async function runAgent(exec: (args: string[], opts: RunOptions) => Promise<RunResult>, targets: readonly AgentTarget[], timeoutMs: number): Promise<AgentRun> {
  const t0 = Date.now();
  const r = await exec(agentProbeArgs(timeoutMs), { input: JSON.stringify(targets), reject: false, timeoutMs: timeoutMs * 3 + 30_000 }).catch(
    (e: Error): RunResult => ({ stdout: '', stderr: e.message, exitCode: -1 }),
  );
  return { ...parseAgentOutput(r.stdout), exitCode: r.exitCode, stderr: r.stderr, ms: Date.now() - t0 };
}

function slug(text: string): string {
  return text.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 30);
}

const suffix = () => randomBytes(2).toString('hex');

async function namespaceOwner(cluster: Cluster, namespace: string): Promise<NonNullable<HarnessPodOptions['controllerRef']>> {
  const r = await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', namespace, '-o', 'jsonpath={.metadata.uid}']);
  if (!r.stdout.trim()) throw new Error(`namespace ${namespace} has no default ServiceAccount to own the position`);
  return { apiVersion: 'v1', kind: 'ServiceAccount', name: 'default', uid: r.stdout.trim() };
}

async function podPosition(cluster: Cluster, kind: PositionKind, memberId: string, adversary: string, o: Omit<HarnessPodOptions, 'image' | 'command'>, serves: Port[]): Promise<Position> {
  const pod: HarnessPodOptions = {
    ...o,
    // The signed registry copy: inside a CDE namespace only it passes the allowed-registry and verifyImages rules.
    image: cluster.images.cdeProbeImage,
    // A host-network position serves nothing: its ports would be the node's.
    command: serves.length ? serveArgs(serves) : ['sleep', 'infinity'],
    exactLabels: true,
    lowPorts: serves.some((p) => p.port < 1024),
    containerPorts: serves.map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.port, protocol: p.protocol })),
  };
  try {
    // A twin carries its workload's labels: give it a controller (the namespace's default ServiceAccount,
    // there for the whole run) so the workload's DaemonSet/StatefulSet never adopts and deletes it.
    if (kind === 'compromised') pod.controllerRef = await namespaceOwner(cluster, o.namespace);
    await runPod(cluster, pod);
  } catch (e) {
    await deletePod(cluster, o.namespace, o.name);
    throw e;
  }
  const [ip, node] = await Promise.all([
    podIP(cluster, o.namespace, o.name),
    cluster.kubectl(['get', 'pod', o.name, '-n', o.namespace, '-o', 'jsonpath={.spec.nodeName}']).then((r) => r.stdout.trim()),
  ]);
  const dispose = () => deletePod(cluster, o.namespace, o.name);
  return {
    kind,
    memberId,
    adversary,
    namespace: o.namespace,
    name: o.name,
    ip,
    node,
    serves,
    execPrefix: `kubectl --kubeconfig ${cluster.kubeconfigPath} exec -i -n ${o.namespace} ${o.name} --`,
    probe: (targets, timeoutMs) => runAgent((args, opts) => cluster.kubectl(['exec', '-i', '-n', o.namespace, o.name, '--', ...args], opts), targets, timeoutMs),
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

/** Code execution inside `template`'s workload: same labels, ServiceAccount, placement, named ports; never a Service endpoint. */
export function compromised(cluster: Cluster, template: PodTemplate, extraPorts: Port[] = []): Promise<Position> {
  const spec = template.spec as { serviceAccountName?: string; nodeSelector?: Record<string, string>; tolerations?: unknown[]; automountServiceAccountToken?: boolean };
  const declared = declaredPorts(template);
  return podPosition(
    cluster,
    'compromised',
    `${template.namespace}/${template.name}`,
    `compromised ${template.namespace}/${template.name}`,
    {
      namespace: template.namespace,
      name: `pos-${slug(template.name)}-${suffix()}`,
      labels: template.labels,
      ...(spec.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
      ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
      ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
      // The workload's own token setting (or its ServiceAccount's, when the template says nothing).
      automount: typeof spec.automountServiceAccountToken === 'boolean' ? spec.automountServiceAccountToken : 'as-workload',
      neverReady: true,
    },
    [...declared, ...extraPorts.filter((x) => !declared.some((d) => d.port === x.port && d.protocol === x.protocol))],
  );
}

/** A pod outside the CDE with the labels given (the model's attacker: default, app=attacker). */
export function outsider(cluster: Cluster, namespace: string, name: string, labels: Record<string, string>, serves: Port[]): Promise<Position> {
  return podPosition(cluster, 'outsider', `${namespace}/${name}`, `outsider in ${namespace}`, { namespace, name: `pos-${slug(name)}-${suffix()}`, labels }, serves);
}

/**
 * An unlabelled pod created inside `namespace`: inside the CDE a rogue deploy
 * (an attacker with create rights there); elsewhere an ordinary outsider.
 */
export function unlabelled(cluster: Cluster, namespace: string, memberName: string, serves: Port[], inScope: boolean): Promise<Position> {
  const kind: PositionKind = inScope ? 'rogue' : 'outsider';
  const adversary = inScope ? `rogue unlabelled pod in ${namespace}` : `outsider (unlabelled pod) in ${namespace}`;
  return podPosition(cluster, kind, `${namespace}/${memberName}`, adversary, { namespace, name: `pos-${kind}-${suffix()}`, labels: {} }, serves);
}

/**
 * A pod in the node's network namespace, where admission lets one in (the
 * default namespace has no Pod Security labels). NetworkPolicy selects pods,
 * not nodes: what it may reach is decided by the destination's ingress half
 * alone, and the API says a pod's own node is always allowed in.
 */
export function hostNetworkPod(cluster: Cluster, namespace: string, node: string, tolerateAll: boolean): Promise<Position> {
  return podPosition(
    cluster,
    'host-network',
    `host:${node}`,
    `hostNetwork pod in ${namespace} on ${node}`,
    {
      namespace,
      name: `pos-hostnet-${suffix()}`,
      labels: {},
      hostNetwork: true,
      nodeSelector: { 'kubernetes.io/hostname': node },
      ...(tolerateAll ? { tolerations: [{ operator: 'Exists' }] } : {}),
    },
    [],
  );
}

export function declaredPorts(t: PodTemplate): Port[] {
  const out: Port[] = [];
  for (const c of ((t.spec as { containers?: Array<{ ports?: Array<{ containerPort: number; protocol?: string; name?: string }> }> }).containers ?? [])) {
    for (const p of c.ports ?? []) out.push({ port: p.containerPort, protocol: (p.protocol ?? 'TCP') as Port['protocol'], ...(p.name ? { name: p.name } : {}) });
  }
  return out;
}

/**
 * The internet: a container on the cluster's Docker network running the
 * agent, with a route to the pod network through a node (as a router in front
 * of a real cluster would have). Started with testcontainers; removed on dispose.
 */
export async function outsideWorld(cluster: Cluster, opts: { memberId: string; network: string; routes: Array<{ cidr: string; via: string }>; serves: Port[] }): Promise<Position> {
  // No reaper container: its image cannot be pulled here, and dispose (plus `pci-harness down`) removes ours.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const { GenericContainer } = await import('testcontainers');
  const name = `${cluster.name}-outside-${suffix()}`;
  const started = await new GenericContainer(cluster.images.probeImage)
    .withName(name)
    .withNetworkMode(opts.network)
    .withLabels({ 'pci-harness.dev/cluster': cluster.name, 'pci-harness.dev/role': 'outside-world' })
    .withUser('0:0')
    .withAddedCapabilities('NET_ADMIN')
    .withEntrypoint(serveArgs(opts.serves))
    .withPullPolicy({ shouldPull: () => false })
    .start();
  const dispose = async () => {
    await started.stop({ remove: true, removeVolumes: true }).catch(() => undefined);
  };
  try {
    for (const r of opts.routes) {
      const route = await started.exec(['ip', 'route', 'add', r.cidr, 'via', r.via]);
      if (route.exitCode !== 0) throw new Error(`outside-world host: could not add a route to ${r.cidr} via ${r.via}: ${route.output}`);
    }
    const host = (await started.exec(['cat', '/etc/hostname'])).output.trim();
    const ip = started.getIpAddress(opts.network);
    return {
      kind: 'outside-world',
      memberId: opts.memberId,
      adversary: 'outside-world host (the internet)',
      namespace: 'external',
      name: host,
      ip,
      serves: opts.serves,
      execPrefix: `docker exec -i ${name}`,
      probe: (targets, timeoutMs) => runAgent((args, opts) => run('docker', ['exec', '-i', name, ...args], opts), targets, timeoutMs),
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}
