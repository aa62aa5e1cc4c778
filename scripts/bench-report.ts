/**
 * How long the evidence package takes to render, and how heavy report.html is
 * in a browser: for a real run's package (`node scripts/bench-report.ts
 * reports/<time>`, re-rendered from its files) and for a generated large run
 * (thousands of matrix cells, hundreds of scenarios, seeded). Prints, per
 * run: the time of each renderer (text, JSON, JUnit, SARIF, HTML, OSCAL), of
 * the whole finishPackage (redact, checksums, OSCAL, signature), the package
 * size, and report.html's load time in headless Chromium.
 *
 *   node scripts/bench-report.ts [PACKAGE_DIR] [--sources 60] [--targets 100]
 */
import { createPrivateKey } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateSigningKey } from '../harness/evidence/attest.ts';
import { listFiles } from '../harness/evidence/digest.ts';
import { finishPackage } from '../harness/evidence/package.ts';
import { readPackage } from '../harness/evidence/read-package.ts';
import { live, OFFLINE_PASS, runReport } from '../harness/report/fixtures.ts';
import { renderHtml } from '../harness/report/html.ts';
import { renderJson } from '../harness/report/json.ts';
import { renderJunit } from '../harness/report/junit.ts';
import { renderOscal } from '../harness/report/oscal.ts';
import type { RunReport } from '../harness/report/run-report.ts';
import { renderSarif } from '../harness/report/sarif.ts';
import { summarize } from '../harness/report/summary.ts';
import { renderText } from '../harness/report/text.ts';
import type { LiveResult } from '../harness/scenario/result.ts';

const { values, positionals } = parseArgs({ options: { sources: { type: 'string', default: '60' }, targets: { type: 'string', default: '100' }, scenarios: { type: 'string', default: '300' } }, allowPositionals: true });

/** A seeded large run: sources × targets matrix cells (a few mismatches and broken probes) plus N small scenarios. */
function largeRun(sources: number, targets: number, scenarios: number): RunReport {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const results: LiveResult[] = [];
  for (let s = 0; s < sources; s++) {
    for (let t = 0; t < targets; t++) {
      const x = rnd();
      const allowed = x < 0.2;
      const status = x > 0.998 ? 'fail' : x > 0.995 ? 'inconclusive' : x > 0.97 ? 'skip' : 'pass';
      results.push(
        live({
          requirement: ['1.2.1', '1.3.1', '1.3.2'][t % 3] as string,
          adversary: `compromised ns-${s}/workload-${s}`,
          action: `http → ns-${t}/svc-${t} 8080/TCP via pod-ip (10.244.${t % 250}.${s % 250}:8080)`,
          predicted: allowed ? 'allowed' : 'blocked',
          observed: status === 'fail' ? (allowed ? 'blocked' : 'allowed') : status === 'inconclusive' || status === 'skip' ? 'check-failed' : allowed ? 'allowed' : 'blocked',
          status,
          layer: { kind: allowed ? 'networkpolicy' : 'networkpolicy-ingress', names: [`ns-${t}/default-deny`] },
          evidence: `{"id":"c${t}","stage":"connect","outcome":"${allowed ? 'answered' : 'timeout'}","addr":"10.244.${t % 250}.${s % 250}","ms":${Math.round(rnd() * 2500)}}`,
          replay: `echo '[{"id":"c${t}","proto":"http","host":"10.244.${t % 250}.${s % 250}","port":8080}]' | kubectl exec -i -n ns-${s} pos-${s} -- /usr/local/bin/pci-probe probe --timeout-ms 2500 --targets -`,
          ...(status === 'fail' ? { finding: 'PREDICTION MISMATCH: generated' } : {}),
        }),
      );
    }
  }
  for (let i = 0; i < scenarios; i++) {
    results.push(live({ check: 'live.admission.kyverno', requirement: '2.2.5', scenario: `scenario-${i}`, adversary: 'deployer', action: `create pod-${i}`, predicted: 'rejected', observed: 'rejected', layer: { kind: 'kyverno', names: ['require-ro-rootfs'] }, evidence: `admission webhook "validate.kyverno.svc" denied the request: pod-${i}`.repeat(3) }));
  }
  const base = runReport();
  return { ...base, offline: Array.from({ length: 1000 }, (_, i) => ({ ...OFFLINE_PASS, object: `NetworkPolicy/ns-${i}/p` })), live: results };
}

const ms = (f: () => unknown) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

async function chromiumLoad(file: string): Promise<string> {
  if (!existsSync('/usr/bin/chromium')) return 'no chromium';
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  try {
    const page = await browser.newPage();
    const t = performance.now();
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    const load = performance.now() - t;
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, nodes: document.getElementsByTagName('*').length };
    });
    return `goto→load ${load.toFixed(0)} ms (DOMContentLoaded ${nav.dcl.toFixed(0)} ms, load ${nav.load.toFixed(0)} ms), ${nav.nodes} elements`;
  } finally {
    await browser.close();
  }
}

async function bench(name: string, report: RunReport, pkgDir?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  try {
    if (pkgDir) cpSync(pkgDir, dir, { recursive: true });
    const all = [...report.offline, ...(report.live ?? [])];
    const meta = { manifests: 'manifests', manifestsDir: join(process.cwd(), 'manifests'), version: report.context.version, cwd: process.cwd() };
    const cells = (report.live ?? []).filter((r) => r.check === 'live.network.matrix').length;
    const t: Record<string, number> = {};
    let summary!: ReturnType<typeof summarize>;
    t.summarize = ms(() => (summary = summarize(all)));
    t.text = ms(() => renderText(summary, { verbose: true }));
    t.json = ms(() => renderJson(summary, meta));
    t.junit = ms(() => renderJunit(summary));
    t.sarif = ms(() => renderSarif(summary, meta));
    let html = '';
    t.html = ms(() => (html = renderHtml(report)));
    t.oscal = ms(() => renderOscal(report, [{ path: 'live.json', sha256: '0'.repeat(64) }]));
    if (!pkgDir) {
      writeFileSync(join(dir, 'live.json'), renderJson(summary, meta));
      writeFileSync(join(dir, 'live.txt'), renderText(summary, { verbose: true }));
      writeFileSync(join(dir, 'live.junit.xml'), renderJunit(summary));
    }
    const key = createPrivateKey(generateSigningKey().privatePem);
    t['finishPackage (redact, html, oscal, sums, sign)'] = ms(() => finishPackage(dir, report, { signingKey: key }));
    const size = listFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    const load = await chromiumLoad(join(dir, 'report.html'));
    process.stdout.write(`\n## ${name}: ${all.length} results (${cells} matrix cells, ${report.offline.length} offline)\n`);
    for (const [k, v] of Object.entries(t)) process.stdout.write(`  ${k.padEnd(48)} ${v.toFixed(1).padStart(8)} ms\n`);
    process.stdout.write(`  report.html ${(html.length / 1024 / 1024).toFixed(2)} MiB; package ${(size / 1024 / 1024).toFixed(1)} MiB in ${listFiles(dir).length} files\n  chromium: ${load}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`node ${process.version}\n`);
if (positionals[0]) await bench(`package ${positionals[0]}`, readPackage(positionals[0]), positionals[0]);
await bench('generated large run', largeRun(Number(values.sources), Number(values.targets), Number(values.scenarios)));
