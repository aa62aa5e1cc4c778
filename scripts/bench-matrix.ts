// Benchmark (not a timed test): the Adversary 1 matrix probed two ways on the
// SAME cluster, side by side in one run —
//   engine    one `pci-probe probe` exec per SOURCE, all its targets at once
//   per-cell  one exec per CELL (the old way: a kubectl exec for every probe)
// Sources run in parallel in both (same bound), so only the batching differs.
// Both must observe the same verdicts; the figures go in the README.
// Usage: node scripts/bench-matrix.ts                  (boots a cluster, deletes it)
//        PCI_LIVE_KUBECONFIG=... node scripts/bench-matrix.ts   (a cluster from `pci-harness up`)
import { performance } from 'node:perf_hooks';
import { attachCluster, locateCluster } from '../harness/cluster/attach.ts';
import { bootCluster, type BootedCluster } from '../harness/cluster/boot.ts';
import { installSignalHandlers } from '../harness/cluster/cleanup.ts';
import { chooseImageSource } from '../harness/cluster/images.ts';
import type { Cluster } from '../harness/cluster/provider.ts';
import { classifyAgentLine } from '../harness/scenario/agent.ts';
import { everyAdversary, placeAll } from '../harness/scenario/adversaries.ts';
import { requireNetworkEnforcement, scenarioContext } from '../harness/scenario/context.ts';
import { observeCells, planCells, planTargets, type ObservedCell, type PlannedCell } from '../harness/scenario/matrix.ts';
import type { Position } from '../harness/scenario/positions.ts';

const PARALLEL = 6;
const TIMEOUT_MS = 2500;

async function perCell(cells: PlannedCell[]): Promise<ObservedCell[]> {
  const bySource = new Map<Position, PlannedCell[]>();
  for (const c of cells.filter((x) => !x.skip)) bySource.set(c.source.position, [...(bySource.get(c.source.position) ?? []), c]);
  const queue = [...bySource.entries()];
  const out: ObservedCell[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [position, list] = next;
      for (const c of list) {
        const r = await position.probe([c.agentTarget], TIMEOUT_MS);
        const line = r.lines.get(c.agentTarget.id);
        const k = classifyAgentLine(line, c.agentTarget, c.target.answerer);
        out.push({ cell: c, observed: k.outcome, detail: k.detail, raw: JSON.stringify(line ?? null) });
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return out;
}

async function main(): Promise<void> {
  installSignalHandlers();
  let booted: BootedCluster | undefined;
  let cluster: Cluster;
  const reuse = process.env.PCI_LIVE_KUBECONFIG;
  if (reuse) {
    const where = await locateCluster(reuse, { name: process.env.PCI_LIVE_CLUSTER });
    cluster = attachCluster({ ...where, kubeconfigPath: reuse, images: chooseImageSource('auto') });
  } else {
    booted = await bootCluster({ layout: 'pci-calico' });
    cluster = booted;
  }
  let positions: Position[] = [];
  try {
    const ctx = await scenarioContext(cluster);
    await requireNetworkEnforcement(ctx);
    positions = await placeAll(ctx, everyAdversary(ctx));
    const sources = positions.map((position) => ({ position, endpointId: ctx.endpointOf(position.memberId).id }));
    const cells = planCells(ctx.reach, ctx.flows, sources, planTargets(ctx.reach, ctx.topology, positions));
    const probed = cells.filter((c) => !c.skip).length;
    // Warm-up pass (Calico programs the new pods; first execs pay image/page cache), not timed.
    await observeCells(cells, { timeoutMs: TIMEOUT_MS, parallel: PARALLEL });
    const t1 = performance.now();
    const engine = await observeCells(cells, { timeoutMs: TIMEOUT_MS, parallel: PARALLEL });
    const engineMs = performance.now() - t1;
    const t2 = performance.now();
    const single = await perCell(cells);
    const singleMs = performance.now() - t2;
    const byCell = new Map(single.map((o) => [o.cell, o.observed]));
    const disagree = engine.filter((o) => byCell.get(o.cell) !== o.observed);
    const blocked = engine.filter((o) => o.observed === 'blocked').length;
    process.stdout.write(
      [
        `matrix: ${positions.length} sources, ${probed} probed cells (${blocked} blocked: each waits out the ${TIMEOUT_MS} ms connect timeout), ${cells.length - probed} not applicable`,
        `sources in parallel: ${PARALLEL} in both ways`,
        `method                         wall s    cells/s`,
        `engine (one exec per source)   ${(engineMs / 1000).toFixed(1).padStart(6)}    ${(probed / (engineMs / 1000)).toFixed(1).padStart(7)}`,
        `per-cell (one exec per cell)   ${(singleMs / 1000).toFixed(1).padStart(6)}    ${(probed / (singleMs / 1000)).toFixed(1).padStart(7)}`,
        `speed-up: ${(singleMs / engineMs).toFixed(1)}x; verdicts that differ between the two: ${disagree.length}${disagree.length ? ` (${disagree.slice(0, 5).map((o) => `${o.cell.source.position.memberId} → ${o.cell.target.label}: engine ${o.observed}, per-cell ${byCell.get(o.cell)}`).join('; ')})` : ''}`,
        '',
      ].join('\n'),
    );
  } finally {
    await Promise.all(positions.map((p) => p.dispose()));
    await booted?.destroy();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench-matrix: ${e.message}\n`);
  process.exit(3);
});
