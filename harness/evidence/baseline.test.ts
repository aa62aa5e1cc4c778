import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/cli/paths.ts';
import { renderJson } from '../report/json.ts';
import { cell, live, runReport } from '../report/fixtures.ts';
import type { RunReport } from '../report/run-report.ts';
import { summarize } from '../report/summary.ts';
import { generateSigningKey } from './attest.ts';
import { baselineRecord, checkBaseline, diffRecords, renderDiff, signBaseline, stableKey } from './baseline.ts';
import { finishPackage } from './package.ts';

const ci = generateSigningKey();
const rm = generateSigningKey();
const ciKey = createPrivateKey(ci.privatePem);
const rmKey = createPrivateKey(rm.privatePem);

/** The passing fixture run with RBAC and admission answers, and a weakened copy of it. */
function baseRun(): RunReport {
  const r = runReport();
  r.live!.push(
    live({ check: 'live.rbac.insider', requirement: '7.2.2', scenario: 'insider.secrets', adversary: 'insider Group pci-operators (impersonated as user insider-ba537a-pci-operators)', action: 'get secrets in cde-storage', predicted: 'forbidden', observed: 'forbidden', layer: { kind: 'rbac' } }),
    live({ check: 'live.admission.kyverno', requirement: '2.2.5', scenario: 'admission.writable-root-kyverno', adversary: 'deployer', action: 'create Pod cde-processing/writable-root-37d6', predicted: 'rejected', observed: 'rejected', layer: { kind: 'kyverno' } }),
  );
  return r;
}
function weakened(): RunReport {
  const r = baseRun();
  r.context.runId = '2026-12-02T09-00-00-000Z';
  r.live = r.live!.map((x) => {
    if (x.check === 'live.network.matrix' && x.adversary === 'outsider in default' && x.action.includes('datastore')) return { ...x, status: 'fail', observed: 'allowed', finding: 'PREDICTION MISMATCH' };
    if (x.check === 'live.rbac.insider') return { ...x, adversary: x.adversary.replace('ba537a', 'f00d42'), status: 'fail', observed: 'permitted' };
    if (x.check === 'live.admission.kyverno') return { ...x, action: x.action.replace('37d6', '9e1c'), status: 'fail', observed: 'admitted' };
    return x;
  });
  r.context.versions.images = [{ role: 'kyverno', ref: 'reg.kyverno.io/kyverno/kyverno:v1.16.3', digest: 'sha256:4567' }];
  return r;
}

describe('baseline record, signatures, diff', () => {
  it('keys stay the same across clusters: cluster names, nonces, pod hashes and IPs are placeholders', () => {
    expect(stableKey('hostNetwork pod in default on pci-mx4j7cao-5286-worker2')).toBe('hostNetwork pod in default on <cluster>-worker2');
    expect(stableKey('exec into cde-frontend/payment-api-7d4b9c8f6f-6h4fq container server')).toBe('exec into cde-frontend/payment-api-<pod> container server');
    expect(stableKey('insider-ba537a-pci-operators get 10.96.0.1')).toBe('insider-<n>-pci-operators get <ip>');
    expect(stableKey('cde-storage/datastore 5432/TCP via pod-ip')).toBe('cde-storage/datastore 5432/TCP via pod-ip');
  });

  it('records requirement verdicts, matrix cells, RBAC and admission answers, image IDs', () => {
    const rec = baselineRecord(baseRun());
    expect(rec.requirements['1.3.1']).toBe('pass');
    expect(rec.requirements['4.2.1']).toBe('not-tested');
    expect(rec.matrix['lateral.matrix | outsider in default → cde-storage/datastore 5432/TCP via pod-ip']).toBe('blocked');
    expect(rec.matrix['lateral.matrix | outsider in default → internet 80/TCP']).toBe('not-applicable');
    expect(rec.rbac).toEqual({ 'insider.secrets | insider Group pci-operators (impersonated as user insider-<n>-pci-operators) | get secrets in cde-storage': 'forbidden' });
    expect(rec.admission).toEqual({ 'admission.privileged-psa | create a privileged pod in cde-storage': 'rejected', 'admission.writable-root-kyverno | create Pod cde-processing/writable-root-<n>': 'rejected' });
    expect(rec.images).toEqual({ kyverno: 'sha256:0123' });
  });

  it('signed by CI, countersigned by the release manager; edited, expired, unsigned or wrongly keyed baselines are refused', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const b1 = signBaseline({ record: baselineRecord(baseRun()), expiresAt: '2027-03-01T00:00:00.000Z' }, ciKey, 'ci', now);
    const b2 = signBaseline(b1, rmKey, 'release-manager', now);
    expect(b2.signatures.map((s) => s.signer)).toEqual(['ci', 'release-manager']);
    expect(checkBaseline(b2, [createPublicKey(ci.publicPem)], now)).toMatchObject({ problems: [] });
    expect(checkBaseline(b2, [createPublicKey(rm.publicPem)], now).trusted.map((s) => s.signer)).toEqual(['release-manager']);
    expect(checkBaseline(b2, [createPublicKey(generateSigningKey().publicPem)], now).problems[0]).toMatch(/no signature verifies with the given key/);
    expect(checkBaseline(b2, [createPublicKey(ci.publicPem)], new Date('2027-03-02T00:00:00Z')).problems).toEqual(['the baseline expired at 2027-03-01T00:00:00.000Z: a release manager must sign a new one']);
    expect(checkBaseline({ ...b2, signatures: [] }, [createPublicKey(ci.publicPem)], now).problems[0]).toMatch(/unsigned/);
    const edited = structuredClone(b2);
    edited.record.matrix['lateral.matrix | outsider in default → cde-storage/datastore 5432/TCP via pod-ip'] = 'allowed';
    expect(checkBaseline(edited, [createPublicKey(ci.publicPem), createPublicKey(rm.publicPem)], now).problems[0]).toMatch(/edited/);
    const extended = { ...b2, expiresAt: '2030-01-01T00:00:00.000Z' }; // the expiry is signed too
    expect(checkBaseline(extended, [createPublicKey(ci.publicPem)], now).problems[0]).toMatch(/no signature verifies/);
  });

  it('diff names what got weaker: a newly reachable cell, a grant that appeared, a rule that now admits, a requirement that fell; and the reverse is stronger', () => {
    const a = baselineRecord(baseRun());
    const b = baselineRecord(weakened());
    const changes = diffRecords(a, b);
    const weaker = changes.filter((c) => c.direction === 'weaker').map((c) => c.what);
    expect(weaker).toEqual(
      expect.arrayContaining([
        'newly reachable: lateral.matrix | outsider in default → cde-storage/datastore 5432/TCP via pod-ip (the offline model predicts it blocked)',
        'a grant appeared: insider.secrets | insider Group pci-operators (impersonated as user insider-<n>-pci-operators) | get secrets in cde-storage',
        'admission now admits: admission.writable-root-kyverno | create Pod cde-processing/writable-root-<n>',
      ]),
    );
    expect(weaker.some((w) => /^requirement 1\.3\.1 fell from pass to fail$/.test(w))).toBe(true);
    expect(changes.find((c) => c.area === 'image')).toMatchObject({ direction: 'changed', what: 'image kyverno: sha256:0123 → sha256:4567' });
    const back = diffRecords(b, a);
    expect(back.filter((c) => c.direction === 'weaker')).toEqual([]);
    expect(back.filter((c) => c.direction === 'stronger').length).toBeGreaterThanOrEqual(4);
    expect(diffRecords(a, baselineRecord(baseRun()))).toEqual([]);
    const md = renderDiff(changes, a, b, 'markdown');
    expect(md).toMatch(/^### PCI DSS v4\.0 baseline diff/);
    expect(md).toContain('| **WEAKER** | matrix | newly reachable: lateral.matrix \\| outsider in default');
    expect(JSON.parse(renderDiff(changes, a, b, 'json')).weaker).toBe(true);
  });
});

describe('pci-harness baseline sign / diff (CLI)', () => {
  const root = mkdtempSync(join(tmpdir(), 'pci-baseline-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const CLI = join(REPO_ROOT, 'scripts', 'pci-harness.mjs');
  const cli = (...args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false, env: { PCI_HARNESS_SIGNING_KEY: '', PCI_HARNESS_VERIFY_KEY: '' } });

  /** A finished package of a run, as `pci-harness run` writes it. */
  function pkg(name: string, r: RunReport): string {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'check.json'), renderJson(summarize(r.offline), { manifests: 'manifests', version: '0.1.0' }));
    writeFileSync(join(dir, 'live.json'), renderJson(summarize(r.live ?? []), { manifests: 'manifests', version: '0.1.0' }));
    finishPackage(dir, r, { signingKey: ciKey });
    return dir;
  }

  it('signs a run, countersigns it, and diffs later runs against it: exit 0 unchanged, exit 1 weaker with the reason, exit 2 refused', async () => {
    for (const [n, k] of [['ci', ci], ['rm', rm]] as const) {
      writeFileSync(join(root, `${n}.key`), k.privatePem);
      writeFileSync(join(root, `${n}.pub`), k.publicPem);
    }
    const good = pkg('good', baseRun());
    const bad = pkg('bad', weakened());
    const baseline = join(root, 'baseline.json');
    let r = await cli('baseline', 'sign', good, '--key', join(root, 'ci.key'), '--signer', 'ci', '--out', baseline, '--expires', '30d');
    expect(r.exitCode, r.stderr).toBe(0);
    r = await cli('baseline', 'sign', baseline, '--key', join(root, 'rm.key'), '--signer', 'release-manager');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 signatures (ci, release-manager)');

    r = await cli('baseline', 'diff', baseline, pkg('again', baseRun()), '--key', join(root, 'rm.pub'));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 weaker, 0 stronger, 0 changed, 0 added, 0 removed/);

    r = await cli('baseline', 'diff', baseline, bad, '--key', join(root, 'ci.pub'), '--format', 'markdown');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('| **WEAKER** | matrix | newly reachable: lateral.matrix \\| outsider in default');
    expect(r.stdout).toContain('a grant appeared');

    // Refused: no key, wrong key, expired, an edited package.
    expect((await cli('baseline', 'diff', baseline, bad)).stderr).toMatch(/needs the public key/);
    writeFileSync(join(root, 'other.pub'), generateSigningKey().publicPem);
    r = await cli('baseline', 'diff', baseline, bad, '--key', join(root, 'other.pub'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no signature verifies with the given key/);
    const old = JSON.parse(readFileSync(baseline, 'utf8'));
    writeFileSync(join(root, 'expired.json'), JSON.stringify({ ...old, expiresAt: '2020-01-01T00:00:00.000Z' }));
    r = await cli('baseline', 'diff', join(root, 'expired.json'), bad, '--key', join(root, 'ci.pub'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/expired at 2020-01-01/);
    writeFileSync(join(bad, 'live.json'), '{"results":[]}');
    r = await cli('baseline', 'diff', baseline, bad, '--key', join(root, 'ci.pub'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('live.json does not match SHA256SUMS');
  }, 60_000);
});
