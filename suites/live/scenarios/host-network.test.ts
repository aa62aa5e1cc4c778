import { inScopeNamespaces } from '../../../harness/analyzers/workloads.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireNetworkEnforcement, scenarioContext, type ScenarioContext } from '../../../harness/scenario/context.ts';
import { planTargets, runMatrix, type MatrixRun, type PlannedCell } from '../../../harness/scenario/matrix.ts';
import { hostNetworkPod, type Position } from '../../../harness/scenario/positions.ts';
import { cellRequirement, predictFromHost } from '../../../harness/scenario/predict.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { diagnoseIfFailed, explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';

/**
 * A hostNetwork pod, where admission allows one (default: no Pod Security
 * labels). NetworkPolicy selects pods, not nodes, so the expectation is
 * stated from the API's own rule: the destination's ingress half alone
 * decides, and an isolated pod always admits its own node. So: from another
 * node, the CDE pods are out of reach; from the CDE node itself, they are
 * not — which is why hostNetwork is banned in the CDE (PSA) and only CDE
 * workloads may land on CDE nodes (2.2.3).
 */
let ctx: ScenarioContext;
const positions: Position[] = [];
let runs: Array<{ where: string; run: MatrixRun }> = [];

function cellsFrom(position: Position, nodeIp: string): PlannedCell[] {
  const targets = planTargets(ctx.reach, ctx.topology, []).filter((t) => t.addressing === 'pod-ip' && t.endpointId !== undefined);
  return targets.map((target, i) => {
    const pod = ctx.topology.pods.find((p) => p.ip === target.host);
    const dst = ctx.reach.endpoints[target.endpointId as number];
    const prediction = predictFromHost(ctx.reach, target.endpointId as number, target.port, nodeIp, pod?.node === position.node);
    return {
      source: { position, endpointId: -1 },
      target,
      agentTarget: { id: `h${i}`, proto: target.proto, host: target.host, port: target.dialPort, ...(target.query ? { query: target.query } : {}) },
      requirement: pod?.node === position.node && dst?.inScope ? '2.2.3' : cellRequirement(ctx.flows, { memberId: position.memberId, inScope: false }, { memberId: target.dest, inScope: dst?.inScope ?? false }, target.port, prediction.layer.kind),
      prediction,
    };
  });
}

beforeAll(async () => {
  ctx = await scenarioContext(sharedCluster());
  await requireNetworkEnforcement(ctx);
  const cde = ctx.topology.nodes.find((n) => n.cde);
  const other = ctx.topology.nodes.find((n) => !n.cde && !n.controlPlane);
  if (!cde || !other) throw new Error('this scenario needs a CDE worker and another worker (manifests/kind/pci-calico.yaml)');
  const [fromOther, fromCde] = await Promise.all([hostNetworkPod(ctx.cluster, 'default', other.name, false), hostNetworkPod(ctx.cluster, 'default', cde.name, true)]);
  positions.push(fromOther, fromCde);
  runs = [
    { where: `another node (${other.name})`, run: await runMatrix('lateral.host-network-other-node', cellsFrom(fromOther, other.ip)) },
    { where: `the CDE node (${cde.name})`, run: await runMatrix('lateral.host-network-cde-node', cellsFrom(fromCde, cde.ip)) },
  ];
  for (const r of runs) {
    recordLiveResults(r.run.results);
    await diagnoseIfFailed(r.run.results, r.run.results[0]?.scenario ?? 'host-network', positions);
  }
});

afterAll(async () => {
  await Promise.all(positions.map((p) => p.dispose()));
});

describe('lateral.host-network: a hostNetwork pod in default (admission allows it there)', () => {
  it('from another node: every CDE pod is blocked by its ingress half; unisolated pods answer (the probe works)', () => {
    const r = runs[0]?.run.results ?? [];
    const cde = inScopeNamespaces(ctx.set);
    const cdeCells = r.filter((x) => cde.some((ns) => (x.action.split('→ ')[1] ?? '').startsWith(`${ns}/`)));
    expect(cdeCells.length).toBeGreaterThan(0);
    for (const x of cdeCells) expect(x.predicted, x.message).toBe('blocked');
    expect(r.some((x) => x.predicted === 'allowed')).toBe(true);
    expect(r.filter((x) => x.status !== 'pass').map(explain)).toEqual([]);
  });

  it("from the CDE node itself: the node is always allowed in — NetworkPolicy does not stop it (hence PSA's hostNetwork ban and 2.2.3)", () => {
    const r = runs[1]?.run.results ?? [];
    const sameNode = r.filter((x) => x.requirement === '2.2.3');
    expect(sameNode.length).toBeGreaterThan(0);
    for (const x of sameNode) expect(x.predicted).toBe('allowed');
    expect(r.filter((x) => x.status !== 'pass').map(explain)).toEqual([]);
  });
});
