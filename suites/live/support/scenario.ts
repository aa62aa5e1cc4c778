import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioContext, requireNetworkEnforcement, type ScenarioContext } from '../../../harness/scenario/context.ts';
import { describeStep, runScenario, stepsOf, type ScenarioDef, type ScenarioRun } from '../../../harness/scenario/scenario.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { sharedCluster } from './shared.ts';

/** Explain a live result in a failing assertion: what, predicted vs observed, evidence and how to replay. */
export function explain(r: LiveResult): string {
  return [r.message, r.finding, `evidence: ${r.evidence}`, `replay: ${r.replay}`].filter(Boolean).join('\n  ');
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
