import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, signStatement, statementFor, ATTESTATION_FILE } from '../../harness/evidence/attest.ts';
import { writeChecksums } from '../../harness/evidence/bundle.ts';
import { finishPackage } from '../../harness/evidence/package.ts';
import { runReport, LIVE_FAIL, live } from '../../harness/report/fixtures.ts';
import { resultSummary, type RunReport } from '../../harness/report/run-report.ts';
import { summarize } from '../../harness/report/summary.ts';
import { REPO_ROOT } from './paths.ts';
import { writeCheckFiles, writeLiveFiles } from './run.ts';

const CLI = join(REPO_ROOT, 'scripts', 'pci-harness.mjs');

describe('pci-harness merge and verify of a merged package', () => {
  let root: string;
  const shardKeys = generateSigningKey();
  const mergeKeys = generateSigningKey();
  let env: Record<string, string>;
  const cli = (...args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false, env });
  const k = (name: string) => join(root, 'keys', name);

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pci-merge-'));
    mkdirSync(join(root, 'keys'));
    writeFileSync(k('shard.key'), shardKeys.privatePem, { mode: 0o600 });
    writeFileSync(k('shard.pub'), shardKeys.publicPem);
    writeFileSync(k('merge.key'), mergeKeys.privatePem, { mode: 0o600 });
    writeFileSync(k('merge.pub'), mergeKeys.publicPem);
    env = { PCI_HARNESS_CACHE: join(root, 'cache') };
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A shard package as `run --shard i/n` leaves it: the writers run uses, then finishPackage, signed. */
  function shardPackage(name: string, index: number, count: number, over: (r: RunReport) => void = () => {}, key: KeyObject = createPrivateKey(shardKeys.privatePem)): string {
    const dir = join(root, name);
    mkdirSync(join(dir, 'live-results'), { recursive: true });
    const r = runReport();
    r.context.runId = `2026-12-01T10-0${index}-00-000Z`;
    r.context.shard = { index, count, files: [`suites/live/shard-${index}.test.ts`] };
    r.live = index === 1 ? r.live : [live({ check: 'live.admission.psa', requirement: '2.2.1', scenario: `admission.shard-${index}`, action: `shard ${index} attempt`, predicted: 'rejected', observed: 'rejected', layer: { kind: 'psa' } })];
    over(r);
    const meta = { manifests: 'manifests', manifestsDir: join(REPO_ROOT, 'manifests'), version: r.context.version };
    writeCheckFiles(dir, summarize(r.offline, {}), meta);
    writeLiveFiles(dir, r.live ?? [], {}, meta, undefined);
    writeFileSync(join(dir, 'summary.md'), `# shard ${index}/${count}\n`);
    writeFileSync(join(dir, 'live-results', 'results.jsonl'), `${(r.live ?? []).map((x) => JSON.stringify(x)).join('\n')}\n`);
    finishPackage(dir, r, { signingKey: key });
    return dir;
  }

  it('joins two shards: results concatenated, one report, merged signature and both shard envelopes verify', async () => {
    const a = shardPackage('ok-1', 1, 2);
    const b = shardPackage('ok-2', 2, 2);
    const out = join(root, 'merged-ok');
    const m = await cli('merge', b, a, '--out', out, '--key', k('merge.key'), '--shard-key', k('shard.pub'));
    expect(m.exitCode, m.stderr).toBe(0);
    const liveJson = JSON.parse(readFileSync(join(out, 'live.json'), 'utf8'));
    const count = (d: string) => JSON.parse(readFileSync(join(d, 'live.json'), 'utf8')).results.length as number;
    expect(liveJson.results).toHaveLength(count(a) + count(b));
    expect(liveJson.results.some((x: { scenario: string }) => x.scenario === 'admission.shard-2')).toBe(true);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.merged.map((s: { name: string }) => s.name)).toEqual(['calico-shard-1-of-2', 'calico-shard-2-of-2']); // shard order, not argument order
    expect(run.shard).toBeUndefined();
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('shards/calico-shard-2-of-2/');

    const v = await cli('verify', out, '--key', k('merge.pub'), '--key', k('shard.pub'));
    expect(v.exitCode, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/2 shard envelope\(s\) valid, each shard's files match \(calico-shard-1-of-2, calico-shard-2-of-2\)/);
    // Only the merger's key: each shard's envelope names another signer — exit 2, as for any wrong key.
    const wrong = await cli('verify', out, '--key', k('merge.pub'));
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toMatch(/shard shards\/calico-shard-1-of-2: wrong key/);
  }, 60_000);

  it('a tampered shard file is named, even when the merged envelope is re-signed over the edit', async () => {
    const out = join(root, 'merged-tamper');
    const m = await cli('merge', shardPackage('t-1', 1, 2), shardPackage('t-2', 2, 2), '--out', out, '--key', k('merge.key'), '--shard-key', k('shard.pub'));
    expect(m.exitCode, m.stderr).toBe(0);
    const victim = join(out, 'shards', 'calico-shard-2-of-2', 'live.json');
    writeFileSync(victim, readFileSync(victim, 'utf8').replace('"status": "pass"', '"status": "fail"'));
    let v = await cli('verify', out, '--key', k('merge.pub'), '--key', k('shard.pub'));
    expect(v.exitCode).toBe(1);
    expect(v.stderr).toContain('CHANGED  shards/calico-shard-2-of-2/live.json'); // the merged signature's view
    expect(v.stderr).toMatch(/shard shards\/calico-shard-2-of-2: the package differs from what was signed:\n {2}CHANGED {2}live\.json/);

    // Whoever holds the merge key re-signs the merged package over the edit: the shard's own envelope still catches it.
    writeChecksums(out);
    const statement = statementFor(out, resultSummary(runReport()));
    writeFileSync(join(out, ATTESTATION_FILE), JSON.stringify(signStatement(statement, createPrivateKey(mergeKeys.privatePem))));
    v = await cli('verify', out, '--key', k('merge.pub'), '--key', k('shard.pub'));
    expect(v.exitCode).toBe(1);
    expect(v.stderr).not.toContain(`${out}: the package differs`);
    expect(v.stderr).toMatch(/shard shards\/calico-shard-2-of-2: the package differs from what was signed:\n {2}CHANGED {2}live\.json/);
  }, 60_000);

  it('refuses to merge a shard that does not verify, naming the file (exit 1); never writes the package', async () => {
    const a = shardPackage('bad-1', 1, 2);
    const b = shardPackage('bad-2', 2, 2);
    writeFileSync(join(b, 'summary.md'), '# forged\n');
    const out = join(root, 'merged-bad');
    const m = await cli('merge', a, b, '--out', out, '--key', k('merge.key'), '--shard-key', k('shard.pub'));
    expect(m.exitCode).toBe(1);
    expect(m.stderr).toMatch(/bad-2 does not verify: the package differs from what was signed\n {2}CHANGED summary\.md/);
    expect(() => readFileSync(join(out, 'run.json'))).toThrow();
  }, 60_000);

  it('the merged verdict: a failing shard is exit 1, a missing shard exit 3 (never 0), shards of another commit exit 2', async () => {
    const fail = await cli('merge', shardPackage('v-1', 1, 3), shardPackage('v-2', 2, 3, (r) => {
      r.live!.push(LIVE_FAIL);
      r.context.verdict = { code: 1, reasons: ['live: 1 failed (1.3.1 live.network.matrix)'] };
    }), '--out', join(root, 'merged-v'), '--key', k('merge.key'), '--shard-key', k('shard.pub'));
    expect(fail.exitCode, fail.stderr).toBe(1);
    const run = JSON.parse(readFileSync(join(root, 'merged-v', 'run.json'), 'utf8'));
    expect(run.verdict.code).toBe(1);
    expect(run.verdict.reasons).toEqual(['[calico-shard-2-of-3] live: 1 failed (1.3.1 live.network.matrix)', 'environment: shard 3/3 (Calico v3.30.1) is missing: its live files did not run']);
    const missing = await cli('merge', shardPackage('m-1', 1, 2), '--out', join(root, 'merged-m'), '--key', k('merge.key'), '--shard-key', k('shard.pub'));
    expect(missing.exitCode).toBe(3);
    const other = await cli('merge', shardPackage('c-1', 1, 2), shardPackage('c-2', 2, 2, (r) => (r.context.commit = 'f'.repeat(40))), '--out', join(root, 'merged-c'), '--key', k('merge.key'), '--shard-key', k('shard.pub'));
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toMatch(/c-2: commit f{40} differs from .*c-1/);
    expect(other.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
