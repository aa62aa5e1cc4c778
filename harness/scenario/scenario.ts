import { EXTERNAL_IP, KUBE_DNS } from '../analyzers/network/model.ts';
import { adversaryMemberId, place, type AdversarySpec } from './adversaries.ts';
import type { ScenarioContext } from './context.ts';
import { planCells, planTargets, runMatrix, type Addressing, type MatrixTarget, type PlannedCell } from './matrix.ts';
import type { Position } from './positions.ts';
import type { DecidingLayer, LiveResult } from './result.ts';

/**
 * A scenario reads like the attack it models:
 *
 *   export default scenario({
 *     id: 'lateral.payment-api-skips-tier',
 *     narrative: 'Code execution in payment-api tries to reach the datastore directly.',
 *     from: adversary.compromised('cde-frontend/payment-api'),
 *     steps: (s) => [
 *       s.connect(target.service('cde-storage/datastore', 5432)).expect('blocked', { layer: 'networkpolicy' }),
 *       s.connect(target.service('cde-processing/card-processor', 9443)).expect('allowed'),
 *     ],
 *   });
 *
 * The author's `expect` is checked twice: against the cluster, and against
 * the offline model's prediction for the same cell. If the author and the
 * model disagree, that is a finding (the scenario or the set is wrong).
 */
export interface TargetSpec {
  /** Model member id (`ns/workload`, `kube-system/kube-dns`, `external:<ip>`) or `host:kube-apiserver` / `host:kubelet`. */
  dest: string;
  addressing: Addressing;
  /** The port dialled (a Service port for service-dns / cluster-ip). */
  port?: number;
  protocol?: 'TCP' | 'UDP';
}

export const target = {
  service: (workload: string, port: number): TargetSpec => ({ dest: workload, addressing: 'service-dns', port, protocol: 'TCP' }),
  clusterIP: (workload: string, port: number): TargetSpec => ({ dest: workload, addressing: 'cluster-ip', port, protocol: 'TCP' }),
  pod: (workload: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): TargetSpec => ({ dest: workload, addressing: 'pod-ip', port, protocol }),
  dns: (protocol: 'TCP' | 'UDP' = 'UDP', addressing: 'cluster-ip' | 'pod-ip' = 'cluster-ip'): TargetSpec => ({ dest: `${KUBE_DNS.namespace}/${KUBE_DNS.name}`, addressing, port: 53, protocol }),
  apiServer: (addressing: 'cluster-ip' | 'node-ip' = 'cluster-ip'): TargetSpec => ({ dest: 'host:kube-apiserver', addressing, protocol: 'TCP' }),
  kubelet: (): TargetSpec => ({ dest: 'host:kubelet', addressing: 'node-ip', port: 10250, protocol: 'TCP' }),
  internet: (port = 443, protocol: 'TCP' | 'UDP' = 'TCP'): TargetSpec => ({ dest: `external:${EXTERNAL_IP}`, addressing: 'host-ip', port, protocol }),
};

export interface ConnectStep {
  kind: 'connect';
  target: TargetSpec;
  expect: 'allowed' | 'blocked';
  layer?: DecidingLayer['kind'];
}

export interface StepBuilder {
  connect(t: TargetSpec): { expect(verdict: 'allowed' | 'blocked', opts?: { layer?: DecidingLayer['kind'] }): ConnectStep };
}

export interface ScenarioDef {
  id: string;
  narrative: string;
  /** Overrides the requirement the model assigns each cell. */
  requirement?: string;
  from: AdversarySpec;
  steps: (s: StepBuilder) => ConnectStep[];
}

export function scenario(def: ScenarioDef): ScenarioDef {
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(def.id)) throw new Error(`scenario id "${def.id}" must be dotted lower-case words, e.g. lateral.payment-api-skips-tier`);
  return def;
}

const builder: StepBuilder = {
  connect: (t) => ({ expect: (verdict, opts) => ({ kind: 'connect', target: t, expect: verdict, ...(opts?.layer ? { layer: opts.layer } : {}) }) }),
};

export function stepsOf(def: ScenarioDef): ConnectStep[] {
  return def.steps(builder);
}

export function describeStep(s: ConnectStep): string {
  const t = s.target;
  return `${t.dest} ${t.port ?? ''}${t.protocol ? `/${t.protocol}` : ''} via ${t.addressing} → ${s.expect}${s.layer ? ` (${s.layer})` : ''}`;
}

function resolveTarget(all: readonly MatrixTarget[], t: TargetSpec): MatrixTarget {
  const found = all.find((m) => m.dest === t.dest && m.addressing === t.addressing && (t.port === undefined || m.dialPort === t.port) && (t.protocol === undefined || m.port.protocol === t.protocol));
  if (found) return found;
  const same = all.filter((m) => m.dest === t.dest).map((m) => `${m.addressing} ${m.dialPort}/${m.port.protocol}`);
  throw new Error(`scenario target ${t.dest} ${t.port ?? ''}/${t.protocol ?? ''} via ${t.addressing} does not exist: ${same.length ? `known for ${t.dest}: ${same.join(', ')}` : `${t.dest} is not in the model or the cluster`}`);
}

const layerMatches = (want: DecidingLayer['kind'] | undefined, got: DecidingLayer['kind']) =>
  !want || want === got || (want === 'networkpolicy' && got.startsWith('networkpolicy'));

export interface ScenarioRun {
  steps: ConnectStep[];
  results: LiveResult[];
  position: Position;
}

/** Place the adversary, resolve each step's target, predict, probe all steps in one agent run, judge. */
export async function runScenario(ctx: ScenarioContext, def: ScenarioDef): Promise<ScenarioRun> {
  const steps = stepsOf(def);
  const position = await place(ctx, def.from);
  try {
    const needsInternet = steps.some((s) => s.target.dest.startsWith('external:'));
    const helpers = needsInternet ? [await place(ctx, { kind: 'outside-world' })] : [];
    try {
      const targets = planTargets(ctx.reach, ctx.topology, [position, ...helpers]);
      const chosen = steps.map((s) => resolveTarget(targets, s.target));
      const source = { position, endpointId: ctx.endpointOf(adversaryMemberId(def.from)).id };
      const cells: PlannedCell[] = planCells(ctx.reach, ctx.flows, [source], chosen);
      const run = await runMatrix(def.id, cells);
      const results = steps.map((step, i) => {
        const cell = cells.find((c) => c.target === chosen[i]);
        const r = cell ? run.results[cells.indexOf(cell)] : undefined;
        if (!r || !cell) throw new Error(`step ${describeStep(step)}: no cell planned (a position never probes itself)`);
        const judged: LiveResult = { ...r, narrative: def.narrative, ...(def.requirement ? { requirement: def.requirement } : {}) };
        if (step.expect !== cell.prediction.predicted || !layerMatches(step.layer, cell.prediction.layer.kind)) {
          return {
            ...judged,
            status: 'fail' as const,
            finding: `SCENARIO DISAGREES WITH THE MODEL: the scenario expects ${step.expect}${step.layer ? ` by ${step.layer}` : ''}, offline network.reachability predicts ${cell.prediction.predicted} by ${cell.prediction.layer.kind} — fix the scenario, or the set`,
          };
        }
        return judged;
      });
      return { steps, results, position };
    } finally {
      await Promise.all(helpers.map((h) => h.dispose()));
    }
  } catch (e) {
    await position.dispose();
    throw e;
  }
}
