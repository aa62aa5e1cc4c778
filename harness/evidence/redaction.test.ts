import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runVerdict } from '../../scripts/cli/exit-codes.ts';
import { FILES, renderSummaryMd, vitestFailures, writeCheckFiles, writeLiveFiles } from '../../scripts/cli/run.ts';
import { live, OFFLINE_PASS, runReport } from '../report/fixtures.ts';
import { summarize } from '../report/summary.ts';
import type { VitestOutcome } from '../report/vitest-outcome.ts';
import type { LiveResult } from '../scenario/result.ts';
import { ATTESTATION_FILE, generateSigningKey } from './attest.ts';
import { redactCredentials, redactValue } from './bundle.ts';
import { listFiles } from './digest.ts';
import { finishPackage, PACKAGE_FILES } from './package.ts';

/**
 * Nothing in the evidence package carries a credential: secrets planted in a
 * live result's evidence, message, finding and replay, in vitest's failure
 * output, in a diagnostics file and in a binary file are searched for in
 * every file of the finished package — report.html, the OSCAL document, the
 * run context and the signed statement's payload included.
 */
const nonce = randomBytes(8).toString('hex');
const SENTINEL = `pci-sentinel-${nonce}-value`; // a Secret's value, as the insider scenario plants one
const SENTINEL_B64 = Buffer.from(SENTINEL).toString('base64');
const BEARER = `sha256~${nonce}Xq3vP9kLmN2bR7tYw4z`;
const PEM_BODY = `MIIEvQIBADANBgkqhkiG9w0BAQEFAASC${nonce}BKcwggSjAgEAAoIBAQC7`;
const PEM = `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\nq2s9x8Yb7Vd6Wc5Ue4Tf3Sg2Rh1Qi0Pj\n-----END PRIVATE KEY-----`;
const DB_PASSWORD = `Db${nonce}pw9`;
const PLANTED = [SENTINEL, SENTINEL_B64, BEARER, PEM_BODY, DB_PASSWORD];

const secretJson = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'insider-sentinel', namespace: 'cde-storage' }, data: { 'card-key': SENTINEL_B64 }, stringData: { plain: SENTINEL } }, null, 2);
const secretYaml = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: insider-sentinel\ndata:\n  card-key: ${SENTINEL_B64}\n  other: ${SENTINEL_B64}\ntype: Opaque\n`;

describe('redaction over the whole evidence package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pci-redaction-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plants a Secret value, a bearer token, a PEM private key and a password; none is in any file of the package', () => {
    const poisoned: LiveResult = live({
      status: 'fail',
      observed: 'allowed',
      message: `the insider read the Secret: ${secretJson}`,
      evidence: `GET /api/v1/namespaces/cde-storage/secrets/insider-sentinel\nAuthorization: Bearer ${BEARER}\n${secretJson}\n${PEM}\nenv: DB_PASSWORD=${DB_PASSWORD}`,
      finding: `the response carried ${secretYaml}`,
      replay: `curl -H 'Authorization: Bearer ${BEARER}' https://10.96.0.1/api/v1/namespaces/cde-storage/secrets`,
    });
    // Results as run reads them: redacted first (run.ts), then rendered by every writer.
    const results = redactValue([poisoned, live()]);
    const outcome: VitestOutcome = { reason: 'failed', tests: [{ file: 'suites/live/scenarios/insider-secrets.test.ts', name: 'leak', state: 'failed', ms: 1, errors: [`AssertionError: expected ${PEM} to be undefined\n${secretYaml}`] }], suiteErrors: [], unhandledErrors: [`Error: Bearer ${BEARER}`] };
    writeFileSync(join(dir, FILES.vitestOutcome), JSON.stringify(outcome, null, 2)); // written raw by the vitest reporter
    writeFileSync(join(dir, FILES.vitestJunit), `<testsuites><testcase name="leak"><failure message="Bearer ${BEARER}">${PEM}\n${secretYaml}</failure></testcase></testsuites>`);
    mkdirSync(join(dir, FILES.liveResults, 'diagnostics'), { recursive: true });
    writeFileSync(join(dir, FILES.liveResults, 'results.jsonl'), `${JSON.stringify(poisoned)}\n`); // raw, as workers append it
    writeFileSync(join(dir, FILES.liveResults, 'diagnostics', 'get-secret.yaml'), secretYaml);
    writeFileSync(join(dir, FILES.liveResults, 'diagnostics', 'get-secret.json'), secretJson);
    writeFileSync(join(dir, FILES.liveResults, 'diagnostics', 'core.bin'), Buffer.concat([Buffer.from([0, 0, 1]), Buffer.from(`Bearer ${BEARER}`)]));

    const meta = { manifests: 'manifests', manifestsDir: '/repo/manifests', version: '0.1.0' };
    const checkText = writeCheckFiles(dir, summarize([OFFLINE_PASS]), meta);
    const liveSummary = writeLiveFiles(dir, results, {}, meta, outcome);
    const verdict = runVerdict({ offline: [OFFLINE_PASS], live: { results, vitest: vitestFailures(outcome), vitestExit: 1 } });
    writeFileSync(join(dir, FILES.summary), renderSummaryMd({ stamp: 's', seconds: 1, commit: 'c', images: 'local', manifests: 'manifests', hasImageRecord: false, checkText, live: { summary: liveSummary, outcome }, verdict }));
    // finishPackage gets the run unredacted (as a caller might pass it): it redacts before rendering.
    const report = { ...runReport({ failing: true }), live: [poisoned, live()], vitest: outcome };
    report.context.verdict = { code: 1, reasons: [`live: leaked Bearer ${BEARER}`] };
    const { redacted } = finishPackage(dir, report, { signingKey: createPrivateKey(generateSigningKey().privatePem) });
    expect(redacted).toEqual(expect.arrayContaining([FILES.vitestOutcome, FILES.vitestJunit, 'live-results/results.jsonl', 'live-results/diagnostics/get-secret.yaml', 'live-results/diagnostics/core.bin']));

    const files = listFiles(dir);
    for (const f of [FILES.liveJson, FILES.liveJunit, FILES.liveText, FILES.liveSarif, FILES.summary, PACKAGE_FILES.html, PACKAGE_FILES.oscal, PACKAGE_FILES.context, ATTESTATION_FILE, 'SHA256SUMS']) expect(files).toContain(f);
    for (const f of files) {
      const raw = readFileSync(join(dir, f));
      const texts = [raw.toString('utf8')];
      if (f === ATTESTATION_FILE) texts.push(Buffer.from(JSON.parse(texts[0] as string).payload, 'base64').toString('utf8'));
      for (const text of texts) {
        for (const secret of PLANTED) expect(text.includes(secret), `${f} carries ${secret.slice(0, 16)}…`).toBe(false);
        expect(text, f).not.toMatch(/BEGIN PRIVATE KEY/);
      }
    }
    // The evidence still says what happened.
    const html = readFileSync(join(dir, PACKAGE_FILES.html), 'utf8');
    expect(html).toContain('Authorization: Bearer [REDACTED]');
    expect(html).toContain('[REDACTED PRIVATE KEY]');
    expect(html).toContain('&quot;card-key&quot;: &quot;[REDACTED]&quot;');
    expect(readFileSync(join(dir, FILES.liveResults, 'diagnostics', 'get-secret.yaml'), 'utf8')).toBe(secretYaml.replace(/(card-key|other): .*/g, '$1: [REDACTED]'));
  });

  it('redacts a Secret whatever its keys are called, escaped inside JSON too; leaves other objects alone', () => {
    expect(redactCredentials(JSON.stringify({ evidence: secretJson }))).not.toContain(SENTINEL_B64);
    expect(redactCredentials(JSON.stringify({ evidence: secretJson }))).toContain('\\"card-key\\": \\"[REDACTED]\\"');
    const configMap = '{"kind": "ConfigMap", "data": {"mode": "strict"}}';
    expect(redactCredentials(configMap)).toBe(configMap);
    expect(redactCredentials('aws_secret_access_key: AKIA9xyz0123456789')).toBe('aws_secret_access_key: [REDACTED]');
    expect(redactCredentials('k8s:enc:secretbox:v1:key-2026-11:')).toBe('k8s:enc:secretbox:v1:key-2026-11:');
    expect(redactCredentials('secretName: payment-api-config')).toBe('secretName: payment-api-config');
  });
});
