import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../harness/check/types.ts';
import { sealEvidence } from '../../harness/evidence/bundle.ts';
import { LIVE_FAIL, LIVE_INCONCLUSIVE, live, OFFLINE_PASS } from '../../harness/report/fixtures.ts';
import { summarize } from '../../harness/report/summary.ts';
import type { VitestOutcome } from '../../harness/report/vitest-outcome.ts';
import { readLiveResults, recordLiveResults } from '../../harness/scenario/sink.ts';
import { classifyVitestFailure, runVerdict, type VitestFailures } from './exit-codes.ts';
import { execa } from 'execa';
import { FILES, readVitestOutcome, renderSummaryMd, unmappedLivePairs, vitestArgs, vitestEnv, vitestFailures, writeCheckFiles, writeLiveFiles } from './run.ts';
import { REPO_ROOT } from './paths.ts';

const OFFLINE_FAIL: CheckResult = { ...OFFLINE_PASS, status: 'fail' };
const ran = (executed = 10, failures: VitestFailures['failures'] = []): VitestFailures => ({ executed, failures });

describe('run exit code (runVerdict)', () => {
  it('0 when every control holds and every live check passed', () => {
    expect(runVerdict({ offline: [OFFLINE_PASS], live: { results: [live()], vitest: ran(), vitestExit: 0 } })).toEqual({ code: 0, reasons: [] });
    expect(runVerdict({ offline: [OFFLINE_PASS] }).code).toBe(0); // --offline-only
  });

  it('1 on an offline fail or a live fail', () => {
    expect(runVerdict({ offline: [OFFLINE_FAIL] }).code).toBe(1);
    const v = runVerdict({ offline: [OFFLINE_PASS], live: { results: [live(), LIVE_FAIL], vitest: ran(), vitestExit: 1 } });
    expect(v.code).toBe(1);
    expect(v.reasons).toEqual(['live: 1 failed (1.3.1 live.network.matrix)']);
  });

  it('1 on a vitest failure that produced no LiveResult', () => {
    const v = runVerdict({ offline: [OFFLINE_PASS], live: { results: [], vitest: ran(5, [{ name: 'pci-slice.test.ts > a privileged pod is rejected', messages: ['AssertionError: expected 0 to be 1'] }]), vitestExit: 1 } });
    expect(v.code).toBe(1);
    expect(v.reasons[0]).toMatch(/^vitest: pci-slice\.test\.ts > a privileged pod is rejected: AssertionError/);
  });

  it('3 on an inconclusive LiveResult, nothing failed', () => {
    const v = runVerdict({ offline: [OFFLINE_PASS], live: { results: [live(), LIVE_INCONCLUSIVE], vitest: ran(), vitestExit: 0 } });
    expect(v).toEqual({ code: 3, reasons: ['live: 1 inconclusive (1.2.1 live.network.canary)'] });
  });

  it('3 on an EnforcementError thrown in a live file (test or beforeAll), not 1', () => {
    for (const msg of [
      'EnforcementError: NetworkPolicy is NOT ENFORCED on cluster pci-x: deny not blocking\nNo network control can be reported as passing',
      'EnforcementError: NetworkPolicy is UNVERIFIED (canary check failed) on cluster pci-x: probe pod never ready',
    ]) {
      const v = runVerdict({ offline: [OFFLINE_PASS], live: { results: [], vitest: ran(3, [{ name: 'suites/live/pci-slice.test.ts > network', messages: [msg] }]), vitestExit: 1 } });
      expect(v.code, msg).toBe(3);
    }
    // Every test of the file was skipped because its beforeAll threw: still inconclusive, not "no test ran".
    expect(runVerdict({ offline: [], live: { results: [], vitest: ran(0, [{ name: 'f', messages: ['EnforcementError: NOT ENFORCED'] }]), vitestExit: 1 } }).code).toBe(3);
  });

  it('a definite failure wins over inconclusive (as liveExitCode does)', () => {
    expect(runVerdict({ offline: [OFFLINE_PASS], live: { results: [LIVE_FAIL, LIVE_INCONCLUSIVE], vitest: ran(), vitestExit: 1 } }).code).toBe(1);
    expect(runVerdict({ offline: [OFFLINE_FAIL], live: { environment: 'image recipe "calico" failed', results: [] } }).code).toBe(1);
  });

  it('3 when the environment failed: image recipe, no outcome, no test ran, vitest exit without a failing test', () => {
    expect(runVerdict({ offline: [OFFLINE_PASS], live: { environment: 'image recipe "calico" failed', results: [] } })).toEqual({ code: 3, reasons: ['environment: image recipe "calico" failed'] });
    expect(runVerdict({ offline: [OFFLINE_PASS], live: { results: [], vitestExit: 1 } }).code).toBe(3);
    expect(runVerdict({ offline: [OFFLINE_PASS], live: { results: [], vitest: ran(0), vitestExit: 1 } }).reasons).toEqual(['environment: no live test ran']);
    expect(runVerdict({ offline: [OFFLINE_PASS], live: { results: [live()], vitest: ran(4), vitestExit: 1 } }).code).toBe(3);
  });

  it('classifies vitest failures by message', () => {
    expect(classifyVitestFailure(['AssertionError: expected blocked'])).toBe('fail');
    expect(classifyVitestFailure(['Error: INCONCLUSIVE: probe broke'])).toBe('inconclusive');
    expect(classifyVitestFailure(['InconclusiveError: no audit log'])).toBe('inconclusive');
    expect(classifyVitestFailure([])).toBe('fail');
  });
});

describe('vitest outcome → failures', () => {
  const outcome: VitestOutcome = {
    reason: 'failed',
    tests: [
      { file: 'suites/live/a.test.ts', name: 'hook > t1', state: 'skipped', ms: 0, errors: [] },
      { file: 'suites/live/a.test.ts', name: 'plain > fails', state: 'failed', ms: 5, errors: ['AssertionError: x'] },
      { file: 'suites/live/a.test.ts', name: 'plain > ok', state: 'passed', ms: 1, errors: [] },
    ],
    suiteErrors: [
      { file: 'suites/live/a.test.ts', name: 'hook', errors: ['EnforcementError: NOT ENFORCED'] },
      { file: 'suites/live/b.test.ts', name: 'suites/live/b.test.ts', errors: ['Error: import-time boom'] },
    ],
    unhandledErrors: ['Error: late'],
  };

  it('counts executed tests and lists test, hook, module and unhandled failures', () => {
    expect(vitestFailures(outcome)).toEqual({
      executed: 2,
      failures: [
        { name: 'suites/live/a.test.ts > plain > fails', messages: ['AssertionError: x'] },
        { name: 'suites/live/a.test.ts > hook', messages: ['EnforcementError: NOT ENFORCED'] },
        { name: 'suites/live/b.test.ts', messages: ['Error: import-time boom'] },
        { name: 'unhandled error', messages: ['Error: late'] },
      ],
    });
  });

  it('flags live results under a requirement their check does not declare (a harness bug, not a verdict)', () => {
    expect(unmappedLivePairs([live(), LIVE_INCONCLUSIVE])).toEqual([]);
    expect(unmappedLivePairs([live({ requirement: '9.9.9' }), live({ check: 'live.nope' })])).toEqual(['1.3.1 live.nope', '9.9.9 live.network.matrix']);
  });

  it('the vitest child runs only the live project and writes live results into the evidence package', () => {
    const args = vitestArgs('/out');
    expect(args.slice(1, 4)).toEqual(['run', '--project', 'live']);
    expect(args).not.toContain('live-harness');
    expect(vitestEnv('/out', 'auto')).toMatchObject({ PCI_LIVE_RESULTS: '/out/live-results', PCI_VITEST_OUTCOME: '/out/live.vitest.json' });
  });
});

describe('the outcome reporter sees what vitest JSON drops (a real vitest child)', () => {
  it('an EnforcementError thrown in beforeAll makes the run inconclusive (3), an assertion in another file fails it (1)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pci-vitest-outcome-'));
    writeFileSync(join(root, 'vitest.config.mjs'), "export default { test: { include: ['*.test.ts'] } };\n");
    writeFileSync(
      join(root, 'net.test.ts'),
      `import { beforeAll, it } from 'vitest';
class EnforcementError extends Error { constructor() { super('NetworkPolicy is NOT ENFORCED on cluster pci-x: deny not blocking'); this.name = 'EnforcementError'; } }
beforeAll(() => { throw new EnforcementError(); });
it('blocked', () => {});
`,
    );
    const outcomeFile = join(root, 'outcome.json');
    const run = (files: string[]) =>
      execa(process.execPath, [join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', root, `--reporter=${join(REPO_ROOT, 'harness', 'report', 'vitest-outcome.ts')}`, ...files], {
        reject: false,
        env: { PCI_VITEST_OUTCOME: outcomeFile },
      });
    const r1 = await run(['net.test.ts']);
    expect(r1.exitCode).toBe(1);
    const o1 = readVitestOutcome(outcomeFile)!;
    expect(o1.tests).toEqual([expect.objectContaining({ file: 'net.test.ts', name: 'blocked', state: 'skipped' })]);
    expect(o1.suiteErrors[0]?.errors[0]).toMatch(/^EnforcementError: NetworkPolicy is NOT ENFORCED/);
    expect(runVerdict({ offline: [], live: { results: [], vitest: vitestFailures(o1), vitestExit: r1.exitCode } }).code).toBe(3);

    writeFileSync(join(root, 'adm.test.ts'), `import { expect, it } from 'vitest';\nit('rejected', () => { expect('admitted').toBe('rejected'); });\n`);
    const r2 = await run([]);
    const o2 = readVitestOutcome(outcomeFile)!;
    expect(o2.tests.find((t) => t.name === 'rejected')).toMatchObject({ state: 'failed', errors: [expect.stringMatching(/^AssertionError/)] });
    expect(runVerdict({ offline: [], live: { results: [], vitest: vitestFailures(o2), vitestExit: r2.exitCode } }).code).toBe(1);
  }, 60_000);
});

describe('evidence package: every file redacted before SHA256SUMS', () => {
  let dir: string;
  const saved = process.env.PCI_LIVE_RESULTS;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pci-run-evidence-'));
    process.env.PCI_LIVE_RESULTS = join(dir, FILES.liveResults);
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.PCI_LIVE_RESULTS;
    else process.env.PCI_LIVE_RESULTS = saved;
  });

  const bearer = 'sha256~Xq3vP9kLmN2bR7tYw4zA8cD1eF6gH0jK';
  const pemBody = 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw';
  const pem = `-----BEGIN RSA PRIVATE KEY-----\n${pemBody}\n7zCeXk0d2eXy5Q8rW3tJ\n-----END RSA PRIVATE KEY-----`;
  const kubeToken = 'kt0k3n-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c';
  const certData = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIC5zCCAc+gAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl\n-----END CERTIFICATE-----').toString('base64');
  const planted = [bearer, pemBody, kubeToken, certData];
  const evidence = [
    'GET /api/v1/namespaces/cde-processing/secrets HTTP/1.1',
    `Authorization: Bearer ${bearer}`,
    pem,
    'users:\n- name: kubernetes-admin\n  user:',
    `    token: ${kubeToken}`,
    `    client-certificate-data: ${certData}`,
  ].join('\n');

  it('plants a bearer token, a client-key PEM, a kubeconfig token: line and client-certificate-data; none survives in any file', () => {
    const poisoned = live({ status: 'fail', observed: 'allowed', evidence, replay: `kubectl --token ${kubeToken} get secrets`, finding: 'the attacker read the admin kubeconfig' });
    recordLiveResults([poisoned, LIVE_INCONCLUSIVE]);
    // A diagnostics file a failing scenario collected, and vitest's own outputs with the same text in an error.
    const diag = join(dir, FILES.liveResults, 'diagnostics', '2026-12-01T08-00-00Z-lateral', 'describe-pod-cde-frontend-attacker.txt');
    mkdirSync(join(diag, '..'), { recursive: true });
    writeFileSync(diag, evidence);
    const outcome: VitestOutcome = { reason: 'failed', tests: [{ file: 'suites/live/x.test.ts', name: 'leak', state: 'failed', ms: 1, errors: [`AssertionError: ${evidence}`] }], suiteErrors: [], unhandledErrors: [] };
    writeFileSync(join(dir, FILES.vitestOutcome), JSON.stringify(outcome, null, 2));
    writeFileSync(join(dir, FILES.vitestJunit), `<testsuites><testcase name="leak"><failure message="token: &quot;${kubeToken}&quot;">${evidence}</failure></testcase></testsuites>`);

    const meta = { manifests: 'manifests', manifestsDir: '/repo/manifests', version: '0.1.0' };
    const results = readLiveResults();
    expect(results).toHaveLength(2);
    const checkText = writeCheckFiles(dir, summarize([OFFLINE_PASS]), meta);
    const liveSummary = writeLiveFiles(dir, results, {}, meta, outcome);
    const verdict = runVerdict({ offline: [OFFLINE_PASS], live: { results, vitest: vitestFailures(outcome), vitestExit: 1 } });
    expect(verdict.code).toBe(1);
    writeFileSync(join(dir, FILES.summary), renderSummaryMd({ stamp: 's', seconds: 1, commit: 'c', images: 'local', manifests: 'manifests', hasImageRecord: false, checkText, live: { summary: liveSummary, outcome }, verdict }));
    const { redacted } = sealEvidence(dir);
    expect(redacted).toContain(join(FILES.liveResults, 'results.jsonl'));

    const files: string[] = [];
    const walk = (d: string) => readdirSync(d).forEach((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : files.push(join(d, n))));
    walk(dir);
    const names = files.map((f) => relative(dir, f)).sort();
    for (const f of ['check.txt', 'check.json', 'check.junit.xml', 'check.sarif', 'live.txt', 'live.json', 'live.junit.xml', 'live.sarif', 'summary.md', 'SHA256SUMS', 'live.vitest.json']) expect(names).toContain(f);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const secret of planted) expect(text.includes(secret), `${relative(dir, f)} contains ${secret.slice(0, 12)}…`).toBe(false);
      expect(text, relative(dir, f)).not.toMatch(/BEGIN RSA PRIVATE KEY/);
    }
    // The live reports still say what happened, minus the credentials.
    const liveJson = JSON.parse(readFileSync(join(dir, 'live.json'), 'utf8'));
    expect(liveJson.results.find((r: { status: string }) => r.status === 'fail').evidence).toContain('Authorization: Bearer [REDACTED]');
    expect(readFileSync(join(dir, 'live.txt'), 'utf8')).toContain('predicted blocked, observed allowed');
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/\| 1\.3\.1 [^|]*\| FAIL \|/);
    // Checksums are over the redacted files.
    expect(() => execFileSync('sha256sum', ['-c', 'SHA256SUMS', '--quiet'], { cwd: dir })).not.toThrow();
  });
});
