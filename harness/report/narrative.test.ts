import { describe, expect, it, vi } from 'vitest';
import type { ScenarioContext } from '../scenario/context.ts';
import type { LiveResult } from '../scenario/result.ts';
import { live, runReport } from './fixtures.ts';
import { renderHtml } from './html.ts';
import { renderJson } from './json.ts';
import { renderOscal } from './oscal.ts';
import { summarize } from './summary.ts';

// runScenario without a cluster: placing the adversary and probing are replaced,
// the judging (which carries the narrative onto each step's result) is the real code.
vi.mock('../scenario/adversaries.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../scenario/adversaries.ts')>()),
  place: vi.fn(async () => ({ name: 'attacker', memberId: 'cde-frontend/payment-api', dispose: async () => {} })),
}));
vi.mock('../scenario/matrix.ts', async (importOriginal) => {
  const target = { dest: 'cde-storage/datastore', addressing: 'service-dns', dialPort: 5432, port: { protocol: 'TCP' } };
  return {
    ...(await importOriginal<typeof import('../scenario/matrix.ts')>()),
    planTargets: vi.fn(() => [target]),
    planCells: vi.fn((_r, _f, _s, targets) => [{ target: targets[0], prediction: { predicted: 'blocked', layer: { kind: 'networkpolicy-ingress' } } }]),
    runMatrix: vi.fn(async (scenario: string) => ({ results: [live({ scenario, message: 'blocked as predicted' })] })),
  };
});

const { runScenario, scenario, target } = await import('../scenario/scenario.ts');

const STORY = 'Code execution in payment-api tries to reach the datastore directly, skipping the card-processor tier.';
const withStory = (over: Partial<LiveResult> = {}) => live({ check: 'live.network.scenario', scenario: 'lateral.payment-api-skips-tier', narrative: STORY, ...over });

describe('scenario narrative', () => {
  it('runScenario puts the scenario narrative on every step result, also on a step that disagrees with the model', async () => {
    const ctx = { endpointOf: () => ({ id: 0 }) } as unknown as ScenarioContext;
    const def = scenario({
      id: 'lateral.payment-api-skips-tier',
      narrative: STORY,
      from: { kind: 'compromised', workload: 'cde-frontend/payment-api' },
      steps: (s) => [s.connect(target.service('cde-storage/datastore', 5432)).expect('blocked')],
    });
    const ok = await runScenario(ctx, def);
    expect(ok.results.map((r) => r.narrative)).toEqual([STORY]);
    const wrong = await runScenario(ctx, { ...def, steps: (s) => [s.connect(target.service('cde-storage/datastore', 5432)).expect('allowed')] });
    expect(wrong.results[0]).toMatchObject({ status: 'fail', narrative: STORY });
  });

  it('report.html tells it once per scenario, escaped; scenarios without one show none', () => {
    const r = runReport();
    r.live!.push(withStory(), withStory({ action: 'tcp → 10.244.1.7:5432 (pod IP)' }), withStory({ scenario: 'hostile', narrative: '<script>x</script>' }));
    const html = renderHtml(r);
    expect(html.split(`<p class="narrative">${STORY}</p>`)).toHaveLength(2);
    expect(html).toContain('<p class="narrative">&lt;script&gt;x&lt;/script&gt;</p>');
    expect(renderHtml(runReport())).not.toContain('class="narrative"');
  });

  it('the OSCAL observation of the scenario carries it; live.json keeps it (null when unset)', () => {
    const r = runReport();
    r.live!.push(withStory());
    const obs = JSON.parse(renderOscal(r, []))['assessment-results'].results[0].observations as Array<{ title: string; description: string }>;
    expect(obs.find((o) => o.title.endsWith('lateral.payment-api-skips-tier'))?.description).toContain(`Scenario: ${STORY}`);
    expect(obs.find((o) => o.title.endsWith('lateral.matrix'))?.description).not.toContain('Scenario:');
    const results = JSON.parse(renderJson(summarize(r.live!, {}), { manifests: 'manifests', version: '0' })).results as Array<{ scenario: string; narrative: string | null }>;
    expect(results.find((x) => x.scenario === 'lateral.payment-api-skips-tier')?.narrative).toBe(STORY);
    expect(results.find((x) => x.scenario === 'lateral.matrix')?.narrative).toBeNull();
  });
});
