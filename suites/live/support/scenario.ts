import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioContext, requireNetworkEnforcement, type ScenarioContext } from '../../../harness/scenario/context.ts';
import { describeStep, runScenario, stepsOf, type ScenarioDef, type ScenarioRun } from '../../../harness/scenario/scenario.ts';
import { collectDiagnostics } from '../../../harness/scenario/diagnostics.ts';
import type { Position } from '../../../harness/scenario/positions.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { sharedCluster } from './shared.ts';

/** Explain a live result in a failing assertion: what, predicted vs observed, evidence and how to replay. */
export function explain(r: LiveResult): string {
  return [`[${r.requirement}] ${r.message}`, r.finding, `evidence: ${r.evidence}`, `replay: ${r.replay}`].filter(Boolean).join('\n  ');
}

/**
 * On any result that is not a pass, collect what a person needs to see why
 * (events, describe of the attacking pods, felix and Kyverno logs, the audit
 * tail) into the evidence, and say where.
 */
export async function diagnoseIfFailed(results: readonly LiveResult[], reason: string, positions: readonly Position[]): Promise<void> {
  const bad = results.filter((r) => r.status === 'fail' || r.status === 'inconclusive');
  if (bad.length === 0) return;
  const pods = positions.filter((p) => p.kind !== 'outside-world').map((p) => ({ namespace: p.namespace, name: p.name }));
  const files = await collectDiagnostics(sharedCluster(), { reason: `${reason} (${bad.length} not passing)`, pods });
  if (files.length) process.stderr.write(`diagnostics for ${reason}: ${files[0]?.replace(/\/[^/]*$/, '')}\n`);
}

/**
 * Run a scenario file on the shared cluster: one `it` per step, the step's
 * LiveResult recorded for the evidence package. A step passes only when the
 * cluster, the model and the author agree; a broken probe fails the test as
 * inconclusive (the run exits 3, never a pass).
 */
export function describeScenario(def: ScenarioDef): void {
  const steps = stepsOf(def);
  describe(`${def.id}: ${def.narrative}`, () => {
    let ctx: ScenarioContext;
    let run: ScenarioRun | undefined;
    beforeAll(async () => {
      ctx = await scenarioContext(sharedCluster());
      await requireNetworkEnforcement(ctx);
      run = await runScenario(ctx, def);
      recordLiveResults(run.results);
      await diagnoseIfFailed(run.results, def.id, [run.position]);
    });
    afterAll(async () => {
      await run?.position.dispose();
    });
    steps.forEach((step, i) => {
      it(describeStep(step), () => {
        const r = run?.results[i];
        expect(r, 'the scenario did not run').toBeDefined();
        expect(r?.status, explain(r as LiveResult)).toBe('pass');
      });
    });
  });
}
