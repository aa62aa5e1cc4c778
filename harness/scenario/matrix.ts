import type { Reachability } from '../analyzers/network/matrix.ts';
import { KUBE_DNS, memberId, PROBE_PORTS, type Endpoint, type Port } from '../analyzers/network/model.ts';
import type { FlowTableSpec } from '../spec/types.ts';
import { agentReplay, classifyAgentLine, type AgentProto, type AgentTarget, type Answerer } from './agent.ts';
import type { AgentRun, Position } from './positions.ts';
import { cellRequirement, predictHostFlow, predictPodFlow, type Prediction } from './predict.ts';
import type { LiveResult } from './result.ts';
import { podsOfService, type PodInfo, type Topology } from './topology.ts';

/**
 * Adversary 1 as a matrix, after the Kubernetes netpol e2e tests: every
 * position × every target address, predicted by the offline model, observed
 * with one agent run per source (all its targets at once, sources in
 * parallel), compared, and printed as expected / observed / comparison tables.
 */
export type Addressing = 'service-dns' | 'cluster-ip' | 'pod-ip' | 'node-ip' | 'host-ip';

export interface MatrixTarget {
  /** Readable, unique: `cde-storage/datastore 5432/TCP via service-dns`. */
  label: string;
  /** Model member id of what answers (`ns/name`, `external:<ip>`), or `host:<what>` for host-network endpoints. */
  dest: string;
  /** Model endpoint (undefined for host-network endpoints). */
  endpointId?: number;
  /** Destination port as the policy sees it (the pod's port, named where the pod names it). */
  port: Port;
  addressing: Addressing;
  proto: AgentProto;
  host: string;
  /** Port dialled (a Service port may differ from the pod port). */
  dialPort: number;
  query?: string;
  answerer: Answerer;
  /** Host-network endpoints: the IP the egress half is judged on. */
  hostIp?: string;
  /** The position that is this target (never probed from itself). */
  positionName?: string;
  /**
   * Proof the target is alive, without which "blocked" means nothing (a
   * dropped UDP query and a dead DNS server look the same):
   *   ready — the backing pod is Ready / the control plane answers (read with the topology)
   *   self  — a harness position: it probes its own address in the same pass
   */
  alive: { by: 'ready'; ok: boolean; why: string } | { by: 'self'; position: Position };
}

export interface MatrixSource {
  position: Position;
  endpointId: number;
}

export interface PlannedCell {
  source: MatrixSource;
  target: MatrixTarget;
  agentTarget: AgentTarget;
  requirement: string;
  prediction: Prediction;
  /** Not applicable from this source (reason). */
  skip?: string;
}

/** Ports nobody declares, probed on every workload twin: a policy that opens "all ports" shows here. */
export const UNDECLARED_PORTS: Port[] = [
  { port: 9999, protocol: 'TCP' },
  { port: 9999, protocol: 'UDP' },
];

const DNS_QUERY = 'kubernetes.default.svc.cluster.local';

function tcpProto(p: Port): AgentProto {
  return p.protocol === 'UDP' ? 'udp' : 'http';
}

/** Every target address in the cluster, from the model's endpoints and the live topology. */
export function planTargets(reach: Reachability, topo: Topology, positions: readonly Position[]): MatrixTarget[] {
  const out: MatrixTarget[] = [];
  const positionNames = positions.map((p) => p.name);
  const byMember = new Map(positions.map((p) => [p.memberId, p]));
  for (const e of reach.endpoints) {
    for (const m of e.members) {
      const id = memberId(m);
      if (m.kind === 'workload') {
        const labels = e.labels;
        // The real pod, by IP, on every declared TCP port.
        const realPodTargets = (pod: PodInfo): MatrixTarget[] =>
          e.ports
            .filter((x) => x.protocol === 'TCP')
            .map((p) => ({ label: `${id} ${p.port}/${p.protocol} via pod-ip`, dest: id, endpointId: e.id, port: p, addressing: 'pod-ip', proto: 'http', host: pod.ip, dialPort: p.port, answerer: { kind: 'pod', name: pod.name }, alive: { by: 'ready', ok: pod.ready, why: `pod ${pod.name} ${pod.ready ? 'Ready' : 'not Ready'}` } }));
        // Through each Service that selects the workload: DNS name and ClusterIP, on the Service port.
        const services = topo.services.filter((x) => x.namespace === e.namespace && Object.keys(x.selector).length && Object.entries(x.selector).every(([k, v]) => labels[k] === v));
        // No Service selects it (pods talk pod to pod): the real pod, by IP, on every declared TCP port — else its declared flows would go unprobed.
        const direct = services.length ? undefined : topo.pods.find((p) => p.namespace === e.namespace && p.name.startsWith(`${m.name}-`) && !positionNames.includes(p.name) && Object.entries(labels).every(([k, v]) => p.labels[k] === v));
        if (direct) out.push(...realPodTargets(direct));
        for (const s of services) {
          for (const sp of s.ports) {
            const podPort = e.ports.find((p) => (typeof sp.targetPort === 'string' ? p.name === sp.targetPort : p.port === (sp.targetPort ?? sp.port)) && p.protocol === sp.protocol);
            if (!podPort) continue;
            const answerer: Answerer = { kind: 'workload', prefix: `${m.name}-`, not: positionNames };
            const ready = podsOfService(topo, s).filter((p) => !positionNames.includes(p.name));
            const alive = { by: 'ready' as const, ok: ready.length > 0, why: ready.length ? `${ready.length} Ready endpoint(s)` : `Service ${s.namespace}/${s.name} has no Ready endpoint` };
            const base = { dest: id, endpointId: e.id, port: podPort, proto: tcpProto(podPort), dialPort: sp.port, answerer, alive };
            out.push({ ...base, label: `${id} ${sp.port}/${sp.protocol} via service-dns`, addressing: 'service-dns', host: `${s.name}.${s.namespace}.svc.cluster.local` });
            out.push({ ...base, label: `${id} ${sp.port}/${sp.protocol} via cluster-ip`, addressing: 'cluster-ip', host: s.clusterIP });
          }
          // The real pod, by IP, on every declared port.
          const pod = podsOfService(topo, s).find((p) => !positionNames.includes(p.name));
          if (pod) out.push(...realPodTargets(pod));
          break;
        }
        // The twin (the compromised position, policy-equivalent): ports nothing declares.
        const twin = byMember.get(id);
        if (twin) {
          for (const p of UNDECLARED_PORTS) {
            out.push({ label: `${id} ${p.port}/${p.protocol} via pod-ip (undeclared)`, dest: id, endpointId: e.id, port: p, addressing: 'pod-ip', proto: tcpProto(p), host: twin.ip, dialPort: p.port, answerer: { kind: 'pod', name: twin.name }, positionName: twin.name, alive: { by: 'self', position: twin } });
          }
        }
      } else if (m.kind === 'kube-dns') {
        const pod = topo.kubeDns.pods.find((p) => p.ready) ?? topo.kubeDns.pods[0];
        const ready = topo.kubeDns.pods.filter((p) => p.ready).length;
        const alive = { by: 'ready' as const, ok: ready > 0, why: ready ? `${ready} Ready kube-dns pod(s)` : 'no Ready kube-dns pod (DNS is down)' };
        for (const p of KUBE_DNS.ports) {
          const proto: AgentProto = p.protocol === 'UDP' ? 'dns-udp' : 'dns-tcp';
          const base = { dest: id, endpointId: e.id, port: p, proto, dialPort: p.port, query: DNS_QUERY, answerer: { kind: 'dns' } as Answerer, alive };
          out.push({ ...base, label: `${id} ${p.port}/${p.protocol} via cluster-ip`, addressing: 'cluster-ip', host: topo.kubeDns.clusterIP });
          if (pod) out.push({ ...base, label: `${id} ${p.port}/${p.protocol} via pod-ip`, addressing: 'pod-ip', host: pod.ip });
        }
      } else if (m.kind === 'attacker') {
        const pos = byMember.get(id);
        if (!pos) continue;
        for (const p of e.ports) {
          out.push({ label: `${id} ${p.port}/${p.protocol} via pod-ip`, dest: id, endpointId: e.id, port: p, addressing: 'pod-ip', proto: tcpProto(p), host: pos.ip, dialPort: p.port, answerer: { kind: 'pod', name: pos.name }, positionName: pos.name, alive: { by: 'self', position: pos } });
        }
      } else if (m.kind === 'external') {
        const pos = byMember.get(id);
        if (!pos) continue;
        for (const p of PROBE_PORTS) {
          out.push({ label: `internet ${p.port}/${p.protocol}`, dest: id, endpointId: e.id, port: p, addressing: 'host-ip', proto: tcpProto(p), host: pos.ip, dialPort: p.port, answerer: { kind: 'host', name: pos.name }, positionName: pos.name, alive: { by: 'self', position: pos } });
        }
      }
    }
  }
  // Host-network endpoints: the API server (ClusterIP and endpoint) and a kubelet on the CDE node.
  const api = topo.apiServer.endpoints[0];
  if (api) {
    const apiPort: Port = { port: api.port, protocol: 'TCP' };
    // The harness is talking to this API server right now: alive.
    const base = { dest: 'host:kube-apiserver', port: apiPort, proto: 'https' as const, answerer: { kind: 'http' } as Answerer, hostIp: api.ip, alive: { by: 'ready' as const, ok: true, why: 'the API server answers the harness' } };
    out.push({ ...base, label: `kube-apiserver ${topo.apiServer.port}/TCP via cluster-ip`, addressing: 'cluster-ip', host: topo.apiServer.clusterIP, dialPort: topo.apiServer.port });
    out.push({ ...base, label: `kube-apiserver ${api.port}/TCP via node-ip`, addressing: 'node-ip', host: api.ip, dialPort: api.port });
  }
  const cdeNode = topo.nodes.find((n) => n.cde);
  if (cdeNode) {
    out.push({ label: `kubelet ${cdeNode.name} 10250/TCP via node-ip`, dest: 'host:kubelet', port: { port: 10250, protocol: 'TCP' }, addressing: 'node-ip', proto: 'https', host: cdeNode.ip, dialPort: 10250, answerer: { kind: 'http' }, hostIp: cdeNode.ip, alive: { by: 'ready', ok: cdeNode.ready, why: `node ${cdeNode.name} ${cdeNode.ready ? 'Ready (its kubelet reports)' : 'not Ready'}` } });
  }
  return out;
}

/** Every (source, target) cell with its prediction, requirement and, where the cell cannot apply, why. */
export function planCells(reach: Reachability, flows: FlowTableSpec['flows'], sources: readonly MatrixSource[], targets: readonly MatrixTarget[]): PlannedCell[] {
  const dnsEndpoint = reach.endpoints.find((e) => e.members.some((m) => m.kind === 'kube-dns'));
  const dnsUdp = dnsEndpoint?.ports.find((p) => p.protocol === 'UDP');
  const cells: PlannedCell[] = [];
  for (const source of sources) {
    const src = reach.endpoints[source.endpointId] as Endpoint;
    const canResolve = !src.external && dnsEndpoint && dnsUdp ? predictPodFlow(reach, src.id, dnsEndpoint.id, dnsUdp).predicted === 'allowed' : false;
    let n = 0;
    for (const target of targets) {
      if (target.positionName === source.position.name) continue; // a position never probes itself
      if (target.endpointId !== undefined && src.external && (reach.endpoints[target.endpointId] as Endpoint).external) continue;
      const prediction = target.endpointId !== undefined ? predictPodFlow(reach, src.id, target.endpointId, target.port) : predictHostFlow(reach, src.id, target.hostIp as string, target.port);
      const dst = target.endpointId !== undefined ? (reach.endpoints[target.endpointId] as Endpoint) : undefined;
      const requirement = cellRequirement(flows, { memberId: source.position.memberId, inScope: src.inScope }, { memberId: target.dest, inScope: dst?.inScope ?? false }, target.port, prediction.layer.kind);
      let skip: string | undefined;
      if (src.external && (target.addressing === 'service-dns' || target.addressing === 'cluster-ip')) skip = 'Service names and ClusterIPs are not addressable from outside the cluster';
      else if (target.addressing === 'service-dns' && !canResolve) skip = 'this source cannot resolve names (its DNS egress is denied — the kube-dns cells prove that)';
      const agentTarget: AgentTarget = { id: `c${n++}`, proto: target.proto, host: target.host, port: target.dialPort, ...(target.query ? { query: target.query } : {}) };
      cells.push({ source, target, agentTarget, requirement, prediction, ...(skip ? { skip } : {}) });
    }
  }
  return cells;
}

export interface ObservedCell {
  cell: PlannedCell;
  observed: 'allowed' | 'blocked' | 'check-failed';
  detail: string;
  raw: string;
}

export interface MatrixOptions {
  timeoutMs?: number;
  /** Sources probed at once (each is one exec). */
  parallel?: number;
}

/**
 * One pass: one agent run per source, all sources (bounded) in parallel. Each
 * position that is also a target probes its own address in the same run (a
 * witness that it is alive; a target position that is no source gets a run
 * of its own). A "blocked" whose target has no proof of life is check-failed.
 */
export async function observeCells(cells: readonly PlannedCell[], opts: MatrixOptions = {}): Promise<ObservedCell[]> {
  const timeoutMs = opts.timeoutMs ?? 2500;
  const runs = new Map<Position, { cells: PlannedCell[]; witnesses: Map<string, MatrixTarget> }>();
  const runOf = (p: Position) => {
    let r = runs.get(p);
    if (!r) runs.set(p, (r = { cells: [], witnesses: new Map() }));
    return r;
  };
  for (const c of cells) {
    if (c.skip) continue;
    runOf(c.source.position).cells.push(c);
    if (c.target.alive.by === 'self') runOf(c.target.alive.position).witnesses.set(`w${runOf(c.target.alive.position).witnesses.size}`, c.target);
  }
  const alive = new Map<MatrixTarget, boolean>();
  const queue = [...runs.entries()];
  const out: ObservedCell[] = [];
  const lines = new Map<PlannedCell, { line: ReturnType<AgentRun['lines']['get']>; broken: string }>();
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [position, { cells: list, witnesses }] = next;
      // A position probes itself by its pod IP: inside its own network namespace, no policy applies.
      const selfTargets: AgentTarget[] = [...witnesses.entries()].map(([id, t]) => ({ id, proto: t.proto, host: t.host, port: t.dialPort, ...(t.query ? { query: t.query } : {}) }));
      const r: AgentRun = await position.probe([...list.map((c) => c.agentTarget), ...selfTargets], timeoutMs);
      for (const [id, t] of witnesses) alive.set(t, classifyAgentLine(r.lines.get(id), { id, proto: t.proto, host: t.host, port: t.dialPort }, t.answerer).outcome === 'allowed');
      const broken = !r.done ? ` (agent run incomplete: exit ${r.exitCode}${r.stderr ? `, ${r.stderr.trim().split('\n').slice(-2).join(' | ')}` : ''})` : '';
      for (const c of list) lines.set(c, { line: r.lines.get(c.agentTarget.id), broken });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? 6) }, worker));
  for (const [c, { line, broken }] of lines) {
    const k = classifyAgentLine(line, c.agentTarget, c.target.answerer);
    const a = c.target.alive;
    const proven = a.by === 'ready' ? a.ok : alive.get(c.target) === true;
    if (k.outcome === 'blocked' && !proven) {
      const why = a.by === 'ready' ? a.why : `${a.position.name} did not answer its own probe`;
      out.push({ cell: c, observed: 'check-failed', detail: `no answer, and nothing proves the target is alive (${why}): not a block`, raw: line ? JSON.stringify(line) : `no result line${broken}` });
    } else {
      out.push({ cell: c, observed: k.outcome, detail: k.detail + (line ? '' : broken), raw: line ? JSON.stringify(line) : `no result line${broken}` });
    }
  }
  return out;
}

const verdictOf = (o: ObservedCell) => (o.observed === o.cell.prediction.predicted ? 'pass' : o.observed === 'check-failed' ? 'inconclusive' : 'fail');

export interface MatrixRun {
  cells: PlannedCell[];
  first: ObservedCell[];
  /** The re-probe of the whole matrix (run only when the first pass had a non-pass). */
  second?: ObservedCell[];
  results: LiveResult[];
  ms: number;
}

/**
 * Observe, and before any mismatch is declared, re-probe the whole matrix
 * once: the second pass is what counts; a cell that changed between passes
 * says so in its evidence.
 */
export async function runMatrix(scenario: string, cells: PlannedCell[], opts: MatrixOptions = {}): Promise<MatrixRun> {
  const t0 = Date.now();
  const first = await observeCells(cells, opts);
  let final = first;
  let second: ObservedCell[] | undefined;
  if (first.some((o) => verdictOf(o) !== 'pass')) {
    await new Promise((r) => setTimeout(r, 2000));
    second = await observeCells(cells, opts);
    final = second;
  }
  const firstBy = new Map(first.map((o) => [o.cell, o]));
  const timeoutMs = opts.timeoutMs ?? 2500;
  const results: LiveResult[] = [];
  for (const c of cells) {
    const o = final.find((x) => x.cell === c);
    results.push(toResult(scenario, c, o, second ? firstBy.get(c) : undefined, timeoutMs));
  }
  return { cells, first, ...(second ? { second } : {}), results, ms: Date.now() - t0 };
}

function toResult(scenario: string, c: PlannedCell, o: ObservedCell | undefined, firstPass: ObservedCell | undefined, timeoutMs: number): LiveResult {
  const pos = c.source.position;
  const action = `${c.target.proto} → ${c.target.label} (${c.target.host}:${c.target.dialPort})`;
  const layerText = `${c.prediction.layer.kind}${c.prediction.layer.names?.length ? ` ${c.prediction.layer.names.join(', ')}` : ''}`;
  const object = c.prediction.layer.names?.[0] ? `NetworkPolicy/${c.prediction.layer.names[0]}` : c.target.dest;
  const base = {
    lane: 'live' as const,
    check: 'live.network.matrix',
    requirement: c.requirement,
    scenario,
    adversary: pos.adversary,
    action,
    predicted: c.prediction.predicted,
    layer: c.prediction.layer,
    object,
    replay: agentReplay(pos.execPrefix, c.agentTarget, timeoutMs),
  };
  if (c.skip || !o) {
    return { ...base, status: 'skip', observed: 'check-failed', message: `${pos.adversary} → ${c.target.label}: not applicable: ${c.skip ?? 'not probed'}`, evidence: c.skip ?? '' };
  }
  const status = verdictOf(o);
  const changed = firstPass && firstPass.observed !== o.observed ? ` [first pass: ${firstPass.observed} (${firstPass.detail})]` : '';
  const evidence = `${o.raw}${changed}`;
  const message = `${pos.adversary} → ${c.target.label}: predicted ${c.prediction.predicted} (${layerText}), observed ${o.observed} (${o.detail})`;
  if (status === 'fail') {
    const finding =
      c.prediction.predicted === 'blocked'
        ? `PREDICTION MISMATCH: the offline model says ${layerText} blocks this; the cluster let it through — a weaker live policy than the set, or a CNI semantic the model lacks`
        : `PREDICTION MISMATCH: the offline model allows this (${layerText}); the cluster dropped it — an allowed flow is broken`;
    return { ...base, status, observed: o.observed, message, evidence, finding };
  }
  return { ...base, status, observed: o.observed, message, evidence };
}

// ---------- tables (netpol e2e style) ----------

const mark = {
  expected: (c: PlannedCell) => (c.skip ? '-' : c.prediction.predicted === 'allowed' ? '.' : 'X'),
  observed: (r: LiveResult) => (r.status === 'skip' ? '-' : r.observed === 'allowed' ? '.' : r.observed === 'blocked' ? 'X' : '?'),
  comparison: (r: LiveResult) => (r.status === 'skip' ? '-' : r.status === 'pass' ? '.' : r.status === 'fail' ? 'X' : '?'),
};

/** Expected, observed and comparison tables (rows: sources; columns: targets, numbered with a legend). */
export function renderTables(run: MatrixRun): string {
  const sources = [...new Set(run.cells.map((c) => c.source.position))];
  // Columns in plan order (a source skips itself, so first appearance alone would misplace its own column).
  const rank = new Map<MatrixTarget, number>();
  for (const c of run.cells) rank.set(c.target, Math.min(rank.get(c.target) ?? Infinity, Number(c.agentTarget.id.replace(/\D/g, ''))));
  const targets = [...rank.keys()].sort((a, b) => (rank.get(a) as number) - (rank.get(b) as number));
  const rowName = (p: Position) => `${p.kind} ${p.memberId}`;
  const width = Math.max(...sources.map((s) => rowName(s).length));
  const index = new Map(targets.map((t, i) => [t, i]));
  const resultOf = new Map(run.cells.map((c, i) => [c, run.results[i] as LiveResult]));
  const header = `${' '.repeat(width)}  ${targets.map((_, i) => String((i + 1) % 10)).join('')}`;
  const table = (title: string, cellMark: (c: PlannedCell) => string) => {
    const rows = sources.map((s) => {
      const line = Array.from({ length: targets.length }, () => ' ');
      for (const c of run.cells.filter((x) => x.source.position === s)) line[index.get(c.target) as number] = cellMark(c);
      return `${rowName(s).padEnd(width)}  ${line.join('')}`;
    });
    return [title, header, ...rows].join('\n');
  };
  const legend = targets.map((t, i) => `  ${String(i + 1).padStart(3)} ${t.label}`).join('\n');
  return [
    'Legend: . allowed   X blocked   ? probe broke (inconclusive)   - not applicable; comparison: . match   X MISMATCH   ? inconclusive',
    table('Expected (offline network.reachability):', mark.expected),
    table('Observed (live cluster):', (c) => mark.observed(resultOf.get(c) as LiveResult)),
    table('Comparison:', (c) => mark.comparison(resultOf.get(c) as LiveResult)),
    'Targets:',
    legend,
  ].join('\n\n');
}
