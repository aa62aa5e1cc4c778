import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { runAnalyzers } from '../../harness/check/run.ts';
import { InputError } from '../../harness/errors.ts';
import { redactValue, writeEvidence } from '../../harness/evidence/bundle.ts';
import { treeDigest } from '../../harness/evidence/digest.ts';
import { finishPackage, PACKAGE_FILES } from '../../harness/evidence/package.ts';
import { loadRecord } from '../../harness/images/record.ts';
import { loadManifestDir } from '../../harness/manifests/load.ts';
import { renderJson } from '../../harness/report/json.ts';
import { renderJunit } from '../../harness/report/junit.ts';
import { renderLiveMarkdown } from '../../harness/report/live.ts';
import { renderSarif } from '../../harness/report/sarif.ts';
import { summarize, type Summary } from '../../harness/report/summary.ts';
import { versionsFromRecord, type RunReport } from '../../harness/report/run-report.ts';
import { renderText } from '../../harness/report/text.ts';
import type { VitestOutcome } from '../../harness/report/vitest-outcome.ts';
import { LIVE_CHECKS } from '../../harness/scenario/checks.ts';
import type { LiveResult } from '../../harness/scenario/result.ts';
import { readLiveResults } from '../../harness/scenario/sink.ts';
import { controlMapTitles } from '../../harness/spec/control-map.ts';
import { cacheDir } from '../../harness/tools/locate.ts';
import { signingKeyFor } from './keys.ts';
import { cniDisagreements, cniKnownDifferences, cniList, mergeOutcomes, renderDisagreements, type LiveCni } from './run-cni.ts';
import { disposeLiveDir, filesForUserSet, layOut, loadUserSet, unavailableImages } from './run-set.ts';
import { notTestedOnSet } from '../../harness/scenario/set-coverage.ts';
import { filterArgs, liveFiles, parseShard, shardFiles } from './shard.ts';
import { EXIT, runVerdict, type RunVerdict, type VitestFailures } from './exit-codes.ts';
import { DEFAULT_MANIFESTS, REPO_ROOT, VERSION } from './paths.ts';

export const RUN_USAGE = `Usage: pci-harness run [--images auto|local|upstream] [--cni calico|cilium|all] [--out DIR] [--offline-only] [--key FILE] [--shard i/n]
       pci-harness run --manifests X [--namespace NS] [--values F]... [--release R] [--spec DIR] [...]
       pci-harness run --kubeconfig FILE [--context NAME] [--manifests X ...] [--out DIR] [--key FILE]

The main job: proves the shipped PCI set offline, builds (or reuses) the
cluster images, boots a kind cluster with Calico, Kyverno and the PCI set,
runs the live attack suites against it (vitest project "live"; the harness's
self-tests are not evidence), deletes the cluster, and writes the evidence
package to DIR (default reports/<timestamp>/):
  check.{txt,json,junit.xml,sarif}   offline proof
  live.{txt,json,junit.xml,sarif}    live results (same formats), merged from live-results/results.jsonl
  live.vitest.json, live.vitest.junit.xml   what vitest ran (every test, hook and module error)
  live-results/                      raw results and diagnostics/ collected on failure
  images.json (supply-chain record), summary.md, run.json (the run's context)
  report.html                        the whole run for a person: verdict per requirement, matrix grid
  assessment-results.json            the same as OSCAL 1.1.3 assessment results
  SHA256SUMS, attestation.dsse.json  checksums; in-toto statement over every file, DSSE-signed
Every text file is redacted of credentials before SHA256SUMS is written.
  --images        image source for the cluster (default auto: local when built, else upstream)
  --out DIR       evidence directory
  --offline-only  only the offline check (no Docker needed)
  --manifests X   your own set instead of the shipped one (YAML dir, Kustomize, Helm chart, -;
                  --namespace/--values/--release/--spec as for check): the cluster is booted
                  with it and the live files that derive their attacks from its spec run; the
                  files written for the shipped set's workloads are reported NOT TESTED with
                  their reason. Images it names must be built here or in local Docker (else
                  exit 3, listing them). Platform files it lacks (kind config, audit policy,
                  encryption config) come from the shipped set, and the run says so.
  --key FILE      private signing key (default $PCI_HARNESS_SIGNING_KEY, else the cache's
                  signing/pci-evidence.key, made on first use); check with \`pci-harness verify DIR\`
  --kubeconfig F  a cluster the harness did NOT create (managed or not): only non-destructive
                  checks (probe pods in its own namespace pci-harness-probe-<id>, deleted after;
                  server dry-run admission; access reviews; audit only where the log is readable:
                  PCI_HARNESS_AUDIT_LOG_DIR); writes outside that namespace are refused; the package
                  adds coverage.txt (what is NOT TESTED and why). Exit 2: no such file or context;
                  3: the cluster does not answer. Probe image: PCI_HARNESS_PROBE_IMAGE
  --context NAME  the kubeconfig context (default: its current context)
  --cni C         calico (default), cilium, or all (the live lane once per CNI, same files and
                  set; results name their CNI; cni-comparison.txt lists attempts whose verdict
                  differs between the two)
  --shard i/n     run only the i-th of n slices of the live files (by sorted path; the
                  reachability matrix alone), recorded in run.json; join the packages
                  with \`pci-harness merge\`
Exit: 0 all controls hold and every live check passed; 1 a control failed
(offline or live, or a live test failed); 3 nothing failed but something is
inconclusive (enforcement not proven, a broken probe) or the environment
failed (image build, Docker, cluster boot, no test ran).`;

function step(n: number, total: number, what: string): void {
  process.stderr.write(`\n==> [${n}/${total}] ${what}\n`);
}

/** Evidence file names (docs/report-formats.md). */
export const FILES = {
  checkText: 'check.txt',
  checkJson: 'check.json',
  checkJunit: 'check.junit.xml',
  checkSarif: 'check.sarif',
  liveText: 'live.txt',
  liveJson: 'live.json',
  liveJunit: 'live.junit.xml',
  liveSarif: 'live.sarif',
  vitestOutcome: 'live.vitest.json',
  vitestJunit: 'live.vitest.junit.xml',
  liveResults: 'live-results',
  images: 'images.json',
  summary: 'summary.md',
} as const;

/** The vitest child: only the `live` project (controls and attack scenarios), with our outcome reporter. */
export function vitestArgs(out: string, files: readonly string[] = [], cni?: LiveCni): string[] {
  return [
    join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--project',
    'live',
    '--reporter=default',
    `--reporter=${join(REPO_ROOT, 'harness', 'report', 'vitest-outcome.ts')}`,
    '--reporter=junit',
    `--outputFile.junit=${join(out, cni ? FILES.vitestJunit.replace(/\.junit\.xml$/, `.${cni}.junit.xml`) : FILES.vitestJunit)}`,
    ...filterArgs(files),
  ];
}

/** `cni` when the run covers several CNIs: each one's raw files under its own name. */
export function vitestEnv(out: string, images: string, cni?: LiveCni): Record<string, string> {
  return {
    PCI_HARNESS_IMAGES: images,
    PCI_EVIDENCE_DIR: out,
    PCI_LIVE_RESULTS: cni ? join(out, FILES.liveResults, cni) : join(out, FILES.liveResults),
    PCI_VITEST_OUTCOME: join(out, cni ? FILES.vitestOutcome.replace(/\.json$/, `.${cni}.json`) : FILES.vitestOutcome),
  };
}

export function readVitestOutcome(path: string): VitestOutcome | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as VitestOutcome;
  } catch {
    return undefined;
  }
}

/** What the exit code needs from vitest: how many tests reached a verdict, and every failure with its messages. */
export function vitestFailures(o: VitestOutcome): VitestFailures {
  return {
    executed: o.tests.filter((t) => t.state === 'passed' || t.state === 'failed').length,
    failures: [
      ...o.tests.filter((t) => t.state === 'failed').map((t) => ({ name: `${t.file} > ${t.name}`, messages: t.errors.length ? t.errors : ['failed'] })),
      ...o.suiteErrors.map((s) => ({ name: s.name === s.file ? s.file : `${s.file} > ${s.name}`, messages: s.errors })),
      ...o.unhandledErrors.map((m) => ({ name: 'unhandled error', messages: [m] })),
    ],
  };
}

/**
 * `requirement check` pairs of live results that harness/scenario/checks.ts
 * (and so the control map) does not declare: a harness bug to fix, shown in
 * summary.md and on stderr; not a verdict on the manifests.
 */
export function unmappedLivePairs(results: ReadonlyArray<{ check: string; requirement: string }>): string[] {
  const known = new Set(Object.entries(LIVE_CHECKS).flatMap(([id, reqs]) => reqs.map((r) => `${r} ${id}`)));
  return [...new Set(results.map((r) => `${r.requirement} ${r.check}`))].filter((p) => !known.has(p)).sort();
}

interface Meta {
  manifests: string;
  manifestsDir: string;
  version: string;
}

/** check.{txt,json,junit.xml,sarif}; returns the text report. */
export function writeCheckFiles(out: string, summary: Summary, meta: Meta): string {
  const text = renderText(summary);
  writeEvidence(join(out, FILES.checkText), `${text}\n`);
  writeEvidence(join(out, FILES.checkJson), `${renderJson(summary, meta)}\n`);
  writeEvidence(join(out, FILES.checkJunit), `${renderJunit(summary)}\n`);
  writeEvidence(join(out, FILES.checkSarif), `${renderSarif(summary, { ...meta, cwd: REPO_ROOT })}\n`);
  return text;
}

const STATE_MARK: Record<string, string> = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP', pending: 'PEND' };

function vitestLines(o: VitestOutcome | undefined): string[] {
  if (!o) return ['vitest left no outcome (it did not start, or crashed).'];
  const count = (s: string) => o.tests.filter((t) => t.state === s).length;
  return [
    `vitest (project live): ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`,
    ...o.tests.map((t) => `- ${STATE_MARK[t.state] ?? t.state} ${t.file} > ${t.name} (${(t.ms / 1000).toFixed(1)} s)${t.errors.length ? `: ${t.errors[0]!.split('\n')[0]}` : ''}`),
    ...o.suiteErrors.map((s) => `- ERROR ${s.name === s.file ? s.file : `${s.file} > ${s.name}`}: ${s.errors[0]?.split('\n')[0] ?? ''}`),
    ...o.unhandledErrors.map((m) => `- ERROR unhandled: ${m.split('\n')[0]}`),
  ];
}

/** live.{txt,json,junit.xml,sarif} from the recorded LiveResults; returns their summary. */
export function writeLiveFiles(out: string, results: readonly LiveResult[], titles: Record<string, string>, meta: Meta, outcome: VitestOutcome | undefined): Summary {
  const summary = summarize(results, titles);
  const text = renderText(summary, { verbose: true });
  writeEvidence(join(out, FILES.liveText), `${text}\n\n${vitestLines(outcome).join('\n')}\n`);
  writeEvidence(join(out, FILES.liveJson), `${renderJson(summary, meta)}\n`);
  writeEvidence(join(out, FILES.liveJunit), `${renderJunit(summary, { name: 'pci-harness live' })}\n`);
  writeEvidence(join(out, FILES.liveSarif), `${renderSarif(summary, { ...meta, cwd: REPO_ROOT })}\n`);
  return summary;
}

export interface SummaryInput {
  stamp: string;
  seconds: number;
  commit: string;
  images: string;
  manifests: string;
  hasImageRecord: boolean;
  checkText: string;
  /** Undefined when the live lane did not run. */
  live?: { summary: Summary; outcome: VitestOutcome | undefined; cniComparison?: string };
  /** Why the live lane did not run, when it did not. */
  liveNotRun?: string;
  verdict: RunVerdict;
  /** `--shard i/n` with its files, or the shard packages a merge was made of. */
  shard?: string;
}

export function renderSummaryMd(s: SummaryInput): string {
  const unmapped = s.live ? unmappedLivePairs(s.live.summary.requirements.flatMap((r) => r.results)) : [];
  const liveBlock = s.live
    ? [
        renderLiveMarkdown(s.live.summary),
        ...(s.live.cniComparison ? ['', '### Calico and Cilium compared (cni-comparison.txt)', '', '```', s.live.cniComparison, '```'] : []),
        ...(unmapped.length ? ['', `**Harness warning**: live results name requirement/check pairs the control map does not declare (harness/scenario/checks.ts, manifests/spec/controls.yaml): ${unmapped.join('; ')}.`] : []),
        '',
        '### What vitest ran',
        '',
        ...vitestLines(s.live.outcome),
      ]
    : [s.liveNotRun ?? 'not run'];
  return [
    `# PCI DSS v4.0 evidence — pci-harness ${VERSION}`,
    '',
    `- run: ${s.stamp} (${s.seconds} s)`,
    `- commit: ${s.commit}`,
    `- manifests: ${s.manifests}`,
    `- image source: ${s.images}${s.hasImageRecord ? ' (supply-chain record: images.json)' : ''}`,
    ...(s.shard ? [`- shard: ${s.shard}`] : []),
    `- verdict: exit ${s.verdict.code} (${s.verdict.code === 0 ? 'every control holds' : s.verdict.code === 1 ? 'a control failed' : 'inconclusive or environment failure: not a verdict on the manifests'})`,
    ...s.verdict.reasons.map((r) => `  - ${r}`),
    '',
    '## Offline proof (per requirement)',
    '',
    '```',
    s.checkText,
    '```',
    '',
    '## Live results on a real cluster (per requirement)',
    '',
    ...liveBlock,
    '',
    'Verify this package: `sha256sum -c SHA256SUMS` in this directory. Every text file was redacted of credentials before the checksums were taken.',
    '',
  ].join('\n');
}

/** Versions for run.json: the CNI(s) the live lane ran, each named with its version. */
function runVersions(record: ReturnType<typeof loadRecord> | undefined, cnis: readonly LiveCni[]): RunReport['context']['versions'] {
  const first = versionsFromRecord(record, cnis[0]);
  if (cnis.length === 1) return first;
  return { ...first, cni: cnis.map((c) => versionsFromRecord(record, c).cni ?? c).join(' + ') };
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      images: { type: 'string', default: 'auto' },
      out: { type: 'string' },
      'offline-only': { type: 'boolean', default: false },
      key: { type: 'string' },
      shard: { type: 'string' },
      manifests: { type: 'string' },
      cni: { type: 'string' },
      namespace: { type: 'string' },
      values: { type: 'string', multiple: true },
      release: { type: 'string' },
      spec: { type: 'string' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${RUN_USAGE}\n`);
    return EXIT.ok;
  }
  if (values.context !== undefined && values.kubeconfig === undefined) throw new InputError('--context needs --kubeconfig', { hint: 'pci-harness run --kubeconfig FILE --context NAME' });
  if (!['auto', 'local', 'upstream'].includes(values.images)) throw new InputError(`unknown --images "${values.images}"`, { hint: 'use auto, local or upstream' });
  if (values.shard && values['offline-only']) throw new InputError('--shard splits the live files: it makes no sense with --offline-only', { hint: 'drop one of them' });
  const shard = values.shard ? parseShard(values.shard) : undefined;
  const cnis = cniList(values.cni);
  // A user's set (--manifests): bad input is exit 2 here, before anything slow.
  const userSet = values.manifests !== undefined
    ? loadUserSet(values.manifests, {
        ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
        ...(values.values ? { values: values.values } : {}),
        ...(values.release !== undefined ? { release: values.release } : {}),
        ...(values.spec !== undefined ? { spec: values.spec } : {}),
      })
    : undefined;
  if (!userSet && (values.namespace !== undefined || values.values || values.release !== undefined || values.spec !== undefined)) {
    throw new InputError('--namespace, --values, --release and --spec describe a set of your own: they need --manifests', { hint: 'pci-harness run --manifests DIR --namespace NS' });
  }
  if (values.kubeconfig !== undefined) {
    // A cluster the harness did not create: non-destructive checks only (scripts/cli/run-existing.ts, harness/existing/).
    if (values.shard || values['offline-only']) throw new InputError('--kubeconfig runs against an existing cluster: it does not combine with --shard or --offline-only', { hint: 'drop one of them' });
    const { runExistingCommand } = await import('./run-existing.ts');
    const key = signingKeyFor(values.key, resolve(values.out ?? 'reports'));
    return runExistingCommand({ kubeconfig: values.kubeconfig, ...(values.context ? { context: values.context } : {}), ...(values.out ? { out: values.out } : {}), ...(userSet ? { set: userSet.set, manifestsLabel: userSet.label } : {}), signingKey: key.key, signingPath: key.path });
  }
  const runnable = userSet ? filesForUserSet(await liveFiles()) : await liveFiles();
  const shardOf = shard ? { ...shard, files: shardFiles(runnable, shard) } : undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = resolve(values.out ?? join('reports', stamp));
  // Before anything slow: a bad key is a usage error now, not after the live lane.
  const signing = signingKeyFor(values.key, out);
  if (signing.created) process.stderr.write(`pci-harness run: made a signing key pair: ${signing.path} (public key beside it, .pub)\n`);
  mkdirSync(out, { recursive: true });
  const total = values['offline-only'] ? 2 : 4;
  const started = Date.now();
  const timings: RunReport['context']['timings'] = [];
  let stepStart = started;
  const timed = (name: string) => {
    const now = Date.now();
    timings.push({ step: name, seconds: (now - stepStart) / 1000 });
    stepStart = now;
  };

  const manifestsLabel = userSet?.label ?? DEFAULT_MANIFESTS;
  step(1, total, `offline check of ${manifestsLabel}`);
  const set = userSet?.set ?? loadManifestDir(join(REPO_ROOT, 'manifests'));
  const check = await runAnalyzers(set, defaultAnalyzers());
  const titles = controlMapTitles(set);
  const meta: Meta = { manifests: manifestsLabel, manifestsDir: set.dir, version: VERSION };
  const checkText = writeCheckFiles(out, summarize(check.results, titles), meta);
  process.stderr.write(`${checkText.split('\n').at(-1)}\n`);
  timed('offline check');

  let live: SummaryInput['live'];
  let cniComparison: string | undefined;
  let liveResults: LiveResult[] = [];
  let environment: string | undefined;
  let vitestExit: number | undefined;
  if (!values['offline-only']) {
    step(2, total, 'images: build or reuse (cached by inputs)');
    if (values.images !== 'upstream') {
      const { buildImages, RecipeFailure } = await import('../images/build.ts');
      const { recipesForCnis } = await import('../images/recipes.ts');
      try {
        await buildImages({ recipes: recipesForCnis(cnis) });
      } catch (e) {
        if (!(e instanceof RecipeFailure)) throw e;
        process.stderr.write(`pci-harness run: image recipe "${e.recipe}" failed; log: ${e.logFile}\n`);
        environment = `image recipe "${e.recipe}" failed (log: ${e.logFile})`;
      }
      const record = join(cacheDir(), 'images', 'record.json');
      if (existsSync(record)) copyFileSync(record, join(out, FILES.images));
    }
    timed('images (build or reuse)');
    if (!environment && userSet) {
      const live = layOut(userSet, stamp);
      process.stderr.write(`your set laid out for the cluster: ${live.counts.cluster} objects, ${live.counts.spec} declarations${live.fromShipped.length ? `; from the shipped set (yours has none): ${live.fromShipped.join(', ')}` : ''}\n`);
      const missing = await unavailableImages(live, values.images as 'auto' | 'local' | 'upstream');
      if (missing.length) {
        environment = `the set names images that are neither built here nor in the local Docker (each would be a pull): ${missing.join(', ')} — build them, or \`docker load\` them, then run again`;
        process.stderr.write(`pci-harness run: ${environment}\n`);
        disposeLiveDir(userSet);
      }
    }
    if (!environment) {
      step(3, total, `live suites: boot kind + ${cnis.map((c) => (c === 'calico' ? 'Calico' : 'Cilium')).join(', then ')} + Kyverno + ${userSet ? userSet.label : 'PCI set'}, attack, tear down`);
      if (shardOf) process.stderr.write(`shard ${shardOf.index}/${shardOf.count}: ${shardOf.files.join(' ')}\n`);
      const outcomes: Array<{ cni: LiveCni; outcome: VitestOutcome | undefined }> = [];
      const raw: LiveResult[] = [];
      // A reused --out must not carry an earlier run's results into this verdict.
      rmSync(join(out, FILES.liveResults), { recursive: true, force: true });
      rmSync(join(out, FILES.vitestOutcome), { force: true });
      for (const cni of cnis) {
        const sub = cnis.length > 1 ? cni : undefined;
        const env: Record<string, string> = { ...vitestEnv(out, values.images, sub), PCI_LIVE_CNI: cni, ...(userSet?.live ? { PCI_LIVE_MANIFESTS: userSet.live.dir } : {}) };
        rmSync(env.PCI_VITEST_OUTCOME!, { force: true });
        if (sub) process.stderr.write(`\n==> live lane on ${cni}\n`);
        const r = await execa(process.execPath, vitestArgs(out, shardOf?.files ?? (userSet ? runnable : []), sub), { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'], reject: false, env });
        // The worst exit of the CNIs' runs decides (a crash on one is not hidden by the other's pass).
        vitestExit = Math.max(vitestExit ?? 0, r.exitCode ?? 1);
        outcomes.push({ cni, outcome: readVitestOutcome(env.PCI_VITEST_OUTCOME!) });
        raw.push(...readLiveResults(env.PCI_LIVE_RESULTS!));
      }
      if (userSet) disposeLiveDir(userSet);
      const outcome = mergeOutcomes(outcomes);
      if (cnis.length > 1 && outcome) writeEvidence(join(out, FILES.vitestOutcome), `${JSON.stringify(outcome, null, 2)}\n`);
      // Redacted before rendering: reports truncate evidence, and a cut PEM block must not escape the patterns.
      liveResults = redactValue([...raw, ...(userSet ? notTestedOnSet(userSet.label) : [])]);
      if (cnis.length > 1) cniComparison = renderDisagreements(cniDisagreements(liveResults), cniKnownDifferences(liveResults));
      live = { summary: writeLiveFiles(out, liveResults, titles, meta, outcome), outcome, cniComparison };
      if (cniComparison) {
        writeEvidence(join(out, 'cni-comparison.txt'), `${cniComparison}\n`);
        process.stderr.write(`${cniComparison.split('\n')[0]}\n`);
      }
      const unmapped = unmappedLivePairs(liveResults);
      if (unmapped.length) process.stderr.write(`pci-harness run: warning: live results under requirements their check does not declare (harness/scenario/checks.ts): ${unmapped.join('; ')}\n`);
      timed('live suites (boot, attack, teardown)');
    }
  }

  const verdict = runVerdict({
    offline: check.results,
    live: values['offline-only']
      ? undefined
      : { environment, results: liveResults, vitest: live?.outcome ? vitestFailures(live.outcome) : undefined, vitestExit },
  });

  step(total, total, `evidence package: ${out}`);
  const git = await execa('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, reject: false });
  const commit = git.exitCode === 0 ? git.stdout.trim() : 'unknown';
  const liveNotRun = values['offline-only'] ? 'not run (--offline-only)' : `did not run: the environment failed before any scenario${environment ? ` (${environment})` : ''}`;
  writeEvidence(
    join(out, FILES.summary),
    renderSummaryMd({
      stamp,
      seconds: Math.round((Date.now() - started) / 1000),
      commit,
      images: values.images,
      manifests: manifestsLabel,
      hasImageRecord: existsSync(join(out, FILES.images)),
      checkText,
      live,
      liveNotRun,
      verdict,
      ...(shardOf ? { shard: `${shardOf.index}/${shardOf.count} (${shardOf.files.join(', ')})` } : {}),
    }),
  );
  timed('evidence package');
  const report: RunReport = {
    context: {
      version: VERSION,
      runId: stamp,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      commit,
      manifests: manifestsLabel,
      manifestDigest: treeDigest(set.dir),
      imageSource: values.images,
      versions: runVersions(existsSync(join(out, FILES.images)) ? loadRecord(join(out, FILES.images)) : undefined, cnis),
      timings,
      verdict,
      ...(shardOf ? { shard: shardOf } : {}),
    },
    offline: check.results,
    ...(live ? { live: liveResults, ...(live.outcome ? { vitest: live.outcome } : {}) } : { liveNotRun }),
    titles,
  };
  const { redacted, signedBy } = finishPackage(out, report, { signingKey: signing.key });
  process.stderr.write(`signed ${PACKAGE_FILES.attestation} with ${signedBy} (${signing.path}); check: pci-harness verify ${out} --key ${signing.path.replace(/\.key$/, '.pub')}\n`);
  if (redacted.length) process.stderr.write(`redacted credentials in: ${redacted.join(', ')}\n`);
  for (const reason of verdict.reasons) process.stderr.write(`  ${reason}\n`);
  process.stderr.write(`evidence written to ${out} (exit ${verdict.code}); open ${join(out, PACKAGE_FILES.html)}\n`);
  return verdict.code;
}
