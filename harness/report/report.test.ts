import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../check/types.ts';
import { LIVE_FAIL, LIVE_INCONCLUSIVE, LIVE_SKIP, live, OFFLINE_PASS } from './fixtures.ts';
import { renderJson, SCHEMA_VERSION } from './json.ts';
import { renderJunit } from './junit.ts';
import { liveTally, renderLiveMarkdown, resultName } from './live.ts';
import { renderSarif } from './sarif.ts';
import { combinedStatus, summarize } from './summary.ts';
import { renderText } from './text.ts';

/** Both lanes through the same reporters: offline CheckResults and live LiveResults in one summary. */
const LIVE_PASS = live();
const mixed: CheckResult[] = [OFFLINE_PASS, LIVE_PASS, LIVE_FAIL, LIVE_INCONCLUSIVE, LIVE_SKIP];
const meta = { manifests: 'manifests', manifestsDir: '/repo/manifests', version: '0.1.0', cwd: '/repo' };

describe('summary', () => {
  it('counts inconclusive apart from pass, fail and skip', () => {
    const s = summarize(mixed);
    expect(s).toMatchObject({ passed: 2, failed: 1, inconclusive: 1, skipped: 1 });
  });

  it('a requirement with an inconclusive result and no failure is inconclusive; a failure wins', () => {
    const s = summarize([OFFLINE_PASS, live({ requirement: '1.3.2' }), live({ requirement: '1.3.2', status: 'inconclusive', observed: 'check-failed' }), LIVE_FAIL]);
    expect(s.requirements.find((r) => r.requirement === '1.3.2')).toMatchObject({ status: 'inconclusive', passed: 1, inconclusive: 1, failed: 0 });
    expect(s.requirements.find((r) => r.requirement === '1.3.1')).toMatchObject({ status: 'fail', passed: 1, failed: 1 });
    expect(combinedStatus([])).toBe('skip');
    expect(combinedStatus([LIVE_SKIP])).toBe('skip');
    expect(combinedStatus([LIVE_SKIP, LIVE_PASS])).toBe('pass');
  });

  it('offline-only summaries are unchanged (inconclusive 0)', () => {
    expect(summarize([OFFLINE_PASS])).toMatchObject({ passed: 1, failed: 0, inconclusive: 0, skipped: 0 });
  });
});

describe('text', () => {
  const text = renderText(summarize(mixed), { verbose: true });

  it('table shows the inconclusive column and status', () => {
    expect(text).toMatch(/^requirement\s+status\s+pass\s+fail\s+inc\s+skip\s+title$/m);
    expect(text).toMatch(/^1\.2\.1\s+INCONCLUSIVE\s+0\s+0\s+1\s+0\s/m);
    expect(text).toMatch(/^1\.3\.1\s+FAIL\s+2\s+1\s+0\s+0\s/m);
    expect(text.split('\n').at(-1)).toBe('2 passed, 1 failed, 1 inconclusive, 1 skipped');
  });

  it('a live failure shows adversary, predicted vs observed with the layer, the finding and the replay command', () => {
    const failures = text.slice(text.indexOf('Failures:'), text.indexOf('Inconclusive'));
    expect(failures).toContain('FAIL [1.3.1] live.network.matrix lateral.matrix: compromised cde-frontend/payment-api → tcp → 10.244.1.7:5432 (pod IP)');
    expect(failures).toContain('predicted blocked, observed allowed (layer networkpolicy-ingress cde-storage/datastore-ingress)');
    expect(failures).toContain(`finding: ${LIVE_FAIL.finding}`);
    expect(failures).toContain(`replay: ${LIVE_FAIL.replay}`);
  });

  it('inconclusive results have their own section, never under Passed', () => {
    const inc = text.slice(text.indexOf('Inconclusive'), text.indexOf('Skipped:'));
    expect(inc).toContain('INCONCLUSIVE [1.2.1] live.network.canary');
    expect(inc).toContain('predicted blocked, observed check-failed');
    expect(inc).toContain(`replay: ${LIVE_INCONCLUSIVE.replay}`);
    expect(text.slice(text.indexOf('Passed:'))).not.toContain('live.network.canary');
    expect(text.slice(text.indexOf('Passed:'))).toContain('predicted blocked, observed blocked');
  });

  it('offline-only text keeps its old shape (no inc column, no inconclusive count)', () => {
    const t = renderText(summarize([OFFLINE_PASS]));
    expect(t).toMatch(/^requirement\s+status\s+pass\s+fail\s+skip\s+title$/m);
    expect(t).toMatch(/^1\.3\.1\s+PASS\s+1\s+0\s+0\s/m);
    expect(t.split('\n').at(-1)).toBe('1 passed, 0 failed, 0 skipped');
  });
});

describe('json', () => {
  const j = JSON.parse(renderJson(summarize(mixed), meta));

  it(`schemaVersion ${SCHEMA_VERSION}: inconclusive counted in summary and requirements`, () => {
    expect(j.schemaVersion).toBe(2);
    expect(j.summary).toEqual({ passed: 2, failed: 1, inconclusive: 1, skipped: 1 });
    expect(j.requirements.find((r: { requirement: string }) => r.requirement === '1.2.1')).toMatchObject({ status: 'inconclusive', inconclusive: 1 });
  });

  it('offline results have lane offline and no live fields; live results carry every live field', () => {
    const off = j.results.find((r: { check: string }) => r.check === 'network.reachability');
    expect(off).toMatchObject({ lane: 'offline', file: OFFLINE_PASS.file, line: 12 });
    expect(off).not.toHaveProperty('predicted');
    const fail = j.results.find((r: { status: string }) => r.status === 'fail');
    expect(fail).toEqual({
      check: 'live.network.matrix',
      requirement: '1.3.1',
      status: 'fail',
      lane: 'live',
      message: LIVE_FAIL.message,
      object: null,
      file: null,
      line: null,
      scenario: 'lateral.matrix',
      adversary: LIVE_FAIL.adversary,
      action: LIVE_FAIL.action,
      predicted: 'blocked',
      observed: 'allowed',
      layer: { kind: 'networkpolicy-ingress', names: ['cde-storage/datastore-ingress'] },
      evidence: LIVE_FAIL.evidence,
      replay: LIVE_FAIL.replay,
      finding: LIVE_FAIL.finding,
      ms: 3012,
      narrative: null,
    });
    expect(j.results.find((r: { status: string }) => r.status === 'inconclusive')).toMatchObject({ lane: 'live', observed: 'check-failed', finding: null });
  });
});

describe('junit', () => {
  const x = renderJunit(summarize(mixed), { name: 'pci-harness live' });
  const testcase = (r: CheckResult) => {
    const start = x.indexOf(`name="${resultName(r).replace(/&/g, '&amp;').replace(/>/g, '&gt;')}"`);
    expect(start, resultName(r)).toBeGreaterThan(0);
    return x.slice(start, x.indexOf('</testcase>', start));
  };

  it('counts failures, errors (inconclusive) and skips', () => {
    expect(x).toMatch(/<testsuites name="pci-harness live" tests="5" failures="1" errors="1" skipped="1">/);
    expect(x).toMatch(/<testsuite name="PCI DSS v4.0 1\.2\.1 [^"]*" tests="1" failures="0" errors="1" skipped="0">/);
  });

  it('fail → <failure>; inconclusive → <error>, neither a pass nor a skip', () => {
    expect(testcase(LIVE_FAIL)).toMatch(/<failure message="the attacker reached the datastore">/);
    const inc = testcase(LIVE_INCONCLUSIVE);
    expect(inc).toMatch(/<error type="inconclusive" message="NetworkPolicy is UNVERIFIED/);
    expect(inc).not.toMatch(/<skipped|<failure/);
    expect(testcase(LIVE_SKIP)).toMatch(/<skipped /);
  });

  it('live evidence and replay command are in system-out', () => {
    const out = testcase(LIVE_FAIL).match(/<system-out>([\s\S]*)<\/system-out>/)?.[1] ?? '';
    expect(out).toContain('evidence: PCI_PROBE-W 200 0.004');
    expect(out).toContain(`replay: ${LIVE_FAIL.replay}`);
    expect(out).toContain('predicted blocked, observed allowed');
    expect(testcase(LIVE_PASS)).toMatch(/<system-out>[\s\S]*replay: kubectl exec/);
    expect(testcase(LIVE_PASS)).toMatch(/time="3\.012"/);
  });

  it('is well formed: every element closed, no raw < in text', () => {
    expect((x.match(/<testcase /g) ?? []).length).toBe((x.match(/<\/testcase>/g) ?? []).length);
    expect((x.match(/<system-out>/g) ?? []).length).toBe((x.match(/<\/system-out>/g) ?? []).length);
    expect(x.replace(/<[^>]+>/g, '')).not.toMatch(/[<>]/);
  });
});

describe('sarif', () => {
  const s = JSON.parse(renderSarif(summarize(mixed), meta));
  const results = s.runs[0].results as Array<{ ruleId: string; level: string; message: { text: string }; properties: Record<string, unknown>; locations: unknown[] }>;

  it('fail → error, inconclusive → warning, passes and skips not emitted', () => {
    expect(results.map((r) => [r.ruleId, r.level]).sort()).toEqual([
      ['live.network.canary', 'warning'],
      ['live.network.matrix', 'error'],
    ]);
    expect(s.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(['live.network.canary', 'live.network.matrix']);
  });

  it('the property bag carries the live fields; the message names requirement and verdict', () => {
    const inc = results.find((r) => r.level === 'warning')!;
    expect(inc.properties).toMatchObject({ requirement: '1.2.1', status: 'inconclusive', lane: 'live', predicted: 'blocked', observed: 'check-failed', replay: LIVE_INCONCLUSIVE.replay, evidence: LIVE_INCONCLUSIVE.evidence });
    expect(inc.message.text).toMatch(/^\[PCI DSS v4\.0 1\.2\.1\] INCONCLUSIVE canary: harness canary → /);
    const fail = results.find((r) => r.level === 'error')!;
    expect(fail.properties).toMatchObject({ status: 'fail', finding: LIVE_FAIL.finding, layer: { kind: 'networkpolicy-ingress', names: ['cde-storage/datastore-ingress'] } });
    expect(fail.message.text).toContain('predicted blocked, observed allowed');
    expect(fail.locations).toEqual([]);
  });

  it('an offline failure is still located at its manifest file and line', () => {
    const off = JSON.parse(renderSarif(summarize([{ ...OFFLINE_PASS, status: 'fail' }]), meta));
    expect(off.runs[0].results[0]).toMatchObject({ level: 'error', properties: { requirement: '1.3.1', status: 'fail', lane: 'offline' } });
    expect(off.runs[0].results[0].locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'manifests/cluster/10-networkpolicies-cde-storage.yaml' }, region: { startLine: 12 } });
  });
});

describe('live markdown for summary.md', () => {
  it('per requirement: status, counts, matrix cells, predicted→observed tally; then every non-pass with replay', () => {
    const md = renderLiveMarkdown(summarize(mixed));
    expect(md).toContain('4 live results: 1 passed, 1 failed, 1 inconclusive, 1 skipped; 2 reachability-matrix cells.');
    expect(md).toMatch(/^\| 1\.3\.1 [^|]* \| FAIL \| 1 \| 1 \| 0 \| 0 \| 2 \| blocked→allowed 1, blocked→blocked 1 \| live\.network\.matrix \|$/m);
    expect(md).toMatch(/^\| 1\.2\.1 [^|]* \| INCONCLUSIVE \| 0 \| 0 \| 1 \| 0 \| 0 \| blocked→check-failed 1 \| live\.network\.canary \|$/m);
    expect(md).toContain(`replay: \`${LIVE_FAIL.replay}\``);
    expect(md).toContain('**INCONCLUSIVE** [1.2.1]');
    expect(renderLiveMarkdown(summarize([OFFLINE_PASS]))).toBe('No live result was recorded.');
    expect(liveTally(mixed)).toMatchObject({ results: 4, matrixCells: 2 });
  });
});
