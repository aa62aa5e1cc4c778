import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { exitCodeFor, runAnalyzers } from '../../harness/check/run.ts';
import { InputError } from '../../harness/errors.ts';
import { redactCredentials, writeChecksums } from '../../harness/evidence/bundle.ts';
import { loadManifestDir } from '../../harness/manifests/load.ts';
import { renderJson } from '../../harness/report/json.ts';
import { cacheDir } from '../../harness/tools/locate.ts';
import { renderJunit } from '../../harness/report/junit.ts';
import { renderSarif } from '../../harness/report/sarif.ts';
import { summarize } from '../../harness/report/summary.ts';
import { renderText } from '../../harness/report/text.ts';
import { controlMapTitles } from '../../harness/spec/control-map.ts';
import { EXIT } from './exit-codes.ts';
import { DEFAULT_MANIFESTS, REPO_ROOT, VERSION } from './paths.ts';

export const RUN_USAGE = `Usage: pci-harness run [--images auto|local|upstream] [--out DIR] [--offline-only]

The main job: proves the shipped PCI set offline, builds (or reuses) the
cluster images, boots a kind cluster with Calico, Kyverno and the PCI set,
runs the live attack suites against it, deletes the cluster, and writes the
evidence package to DIR (default reports/<timestamp>/): check.{txt,json,junit.xml,sarif},
live.{json,junit.xml}, images.json (supply-chain record), summary.md and SHA256SUMS.
  --images        image source for the cluster (default auto: local when built, else upstream)
  --out DIR       evidence directory
  --offline-only  only the offline check (no Docker needed)
Exit: 0 all controls hold and every live scenario passed; 1 a control or
scenario failed; 3 the environment failed (image build, Docker, cluster boot).`;

function step(n: number, total: number, what: string): void {
  process.stderr.write(`\n==> [${n}/${total}] ${what}\n`);
}

interface LiveSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  tests: Array<{ name: string; status: string; ms: number }>;
}

function readLive(path: string): LiveSummary | undefined {
  if (!existsSync(path)) return undefined;
  const j = JSON.parse(readFileSync(path, 'utf8')) as {
    numTotalTests: number;
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    testResults: Array<{ assertionResults: Array<{ fullName: string; status: string; duration?: number }> }>;
  };
  return {
    total: j.numTotalTests,
    passed: j.numPassedTests,
    failed: j.numFailedTests,
    skipped: j.numPendingTests,
    tests: j.testResults.flatMap((f) => f.assertionResults.map((a) => ({ name: a.fullName, status: a.status, ms: a.duration ?? 0 }))),
  };
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      images: { type: 'string', default: 'auto' },
      out: { type: 'string' },
      'offline-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${RUN_USAGE}\n`);
    return EXIT.ok;
  }
  if (!['auto', 'local', 'upstream'].includes(values.images)) throw new InputError(`unknown --images "${values.images}"`, { hint: 'use auto, local or upstream' });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = resolve(values.out ?? join('reports', stamp));
  mkdirSync(out, { recursive: true });
  const total = values['offline-only'] ? 2 : 4;
  const started = Date.now();

  step(1, total, `offline check of ${DEFAULT_MANIFESTS}`);
  const set = loadManifestDir(join(REPO_ROOT, 'manifests'));
  const check = await runAnalyzers(set, defaultAnalyzers());
  const summary = summarize(check.results, controlMapTitles(set));
  const meta = { manifests: DEFAULT_MANIFESTS, manifestsDir: set.dir, version: VERSION };
  const text = renderText(summary);
  writeFileSync(join(out, 'check.txt'), `${text}\n`);
  writeFileSync(join(out, 'check.json'), `${renderJson(summary, meta)}\n`);
  writeFileSync(join(out, 'check.junit.xml'), `${renderJunit(summary)}\n`);
  writeFileSync(join(out, 'check.sarif'), `${renderSarif(summary, { ...meta, cwd: REPO_ROOT })}\n`);
  process.stderr.write(`${text.split('\n').at(-1)}\n`);
  const checkExit = exitCodeFor(check.results);

  let live: LiveSummary | undefined;
  let environmentFailed = false;
  if (!values['offline-only']) {
    step(2, total, 'images: build or reuse (cached by inputs)');
    if (values.images !== 'upstream') {
      const { buildImages, RecipeFailure } = await import('../images/build.ts');
      try {
        await buildImages({});
      } catch (e) {
        if (!(e instanceof RecipeFailure)) throw e;
        process.stderr.write(`pci-harness run: image recipe "${e.recipe}" failed; log: ${e.logFile}\n`);
        environmentFailed = true;
      }
      const record = join(cacheDir(), 'images', 'record.json');
      if (existsSync(record)) copyFileSync(record, join(out, 'images.json'));
    }
    if (!environmentFailed) {
      step(3, total, 'live suites: boot kind + Calico + Kyverno + PCI set, attack, tear down');
      const vitest = join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
      const r = await execa(
        process.execPath,
        [vitest, 'run', '--project', 'live', '--reporter=default', '--reporter=json', '--reporter=junit', `--outputFile.json=${join(out, 'live.json')}`, `--outputFile.junit=${join(out, 'live.junit.xml')}`],
        { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'], reject: false, env: { PCI_HARNESS_IMAGES: values.images, PCI_EVIDENCE_DIR: out } },
      );
      live = readLive(join(out, 'live.json'));
      // No test ran at all: the cluster never came up (global setup failed) — not a verdict on the controls.
      if (!live || live.total === 0 || (r.exitCode !== 0 && live.passed + live.failed === 0)) environmentFailed = true;
    }
  }

  step(total, total, `evidence package: ${out}`);
  const liveLines = live
    ? [`${live.passed} passed, ${live.failed} failed, ${live.skipped} skipped`, '', ...live.tests.map((t) => `- ${t.status === 'passed' ? 'PASS' : t.status === 'failed' ? 'FAIL' : 'SKIP'} ${t.name} (${(t.ms / 1000).toFixed(1)} s)`)]
    : [values['offline-only'] ? 'not run (--offline-only)' : 'did not run: the environment failed before any scenario (see the output above)'];
  const git = await execa('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, reject: false });
  const md = [
    `# PCI DSS v4.0 evidence — pci-harness ${VERSION}`,
    '',
    `- run: ${stamp} (${Math.round((Date.now() - started) / 1000)} s)`,
    `- commit: ${git.exitCode === 0 ? git.stdout.trim() : 'unknown'}`,
    `- manifests: ${DEFAULT_MANIFESTS}`,
    `- image source: ${values.images}${existsSync(join(out, 'images.json')) ? ' (supply-chain record: images.json)' : ''}`,
    '',
    '## Offline proof (per requirement)',
    '',
    '```',
    text,
    '```',
    '',
    '## Live scenarios on a real cluster',
    '',
    ...liveLines,
    '',
    'Verify this package: `sha256sum -c SHA256SUMS` in this directory.',
    '',
  ].join('\n');
  writeFileSync(join(out, 'summary.md'), redactCredentials(md));
  writeChecksums(out);
  process.stderr.write(`evidence written to ${out}\n`);
  if (environmentFailed) return EXIT.environment;
  return checkExit === 1 || (live && live.failed > 0) ? EXIT.controlFailed : EXIT.ok;
}
