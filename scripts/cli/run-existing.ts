import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { runAnalyzers } from '../../harness/check/run.ts';
import { chooseImageSource } from '../../harness/cluster/images.ts';
import { redactValue, writeEvidence } from '../../harness/evidence/bundle.ts';
import { treeDigest } from '../../harness/evidence/digest.ts';
import { finishPackage, PACKAGE_FILES } from '../../harness/evidence/package.ts';
import { renderCoverage } from '../../harness/existing/coverage.ts';
import { runExisting } from '../../harness/existing/run.ts';
import { reachable, resolveTarget, type ExistingTarget } from '../../harness/existing/target.ts';
import { loadManifestDir } from '../../harness/manifests/load.ts';
import { summarize } from '../../harness/report/summary.ts';
import type { RunReport } from '../../harness/report/run-report.ts';
import { readLiveResults } from '../../harness/scenario/sink.ts';
import { controlMapTitles } from '../../harness/spec/control-map.ts';
import { locateKyvernoCli } from '../../harness/tools/kyverno-cli.ts';
import { InputError } from '../../harness/errors.ts';
import type { ManifestSet } from '../../harness/manifests/types.ts';
import { EXIT, runVerdict } from './exit-codes.ts';
import { DEFAULT_MANIFESTS, REPO_ROOT, VERSION } from './paths.ts';
import { FILES, renderSummaryMd, unmappedLivePairs, writeCheckFiles, writeLiveFiles } from './run.ts';

/**
 * `pci-harness run --kubeconfig FILE [--context C]`: the existing-cluster
 * mode (harness/existing/). Validates the target (exit 2 for a missing file
 * or context, 3 when the API server does not answer), runs the offline check
 * of the set, the non-destructive live checks on the target, and writes the
 * same evidence package as `run`, plus coverage.txt (what ran, what is NOT
 * TESTED and why) and existing-cluster.json (mode, context, server URL —
 * never a credential from the kubeconfig).
 */
export interface RunExistingArgs {
  kubeconfig: string;
  context?: string;
  out?: string;
  /** The set to predict from (`run --manifests`, already loaded); default the shipped set. */
  set?: ManifestSet;
  manifestsLabel?: string;
  signingKey?: import('node:crypto').KeyObject;
  signingPath?: string;
}

export const EXISTING_FILES = { coverage: 'coverage.txt', target: 'existing-cluster.json' } as const;

/** Validation only (exit 2 / 3 before anything is written): the target, and that it answers. */
export async function validateExisting(kubeconfig: string, context?: string): Promise<{ target: ExistingTarget; version: string } | { environment: string }> {
  const target = resolveTarget(kubeconfig, context); // throws InputError: exit 2
  const images = chooseImageSource('auto');
  const r = await reachable(target, images.kubectlBinary);
  if (!r.ok) return { environment: `the cluster of context "${target.context}" (${target.server}) does not answer: ${r.why}` };
  return { target, version: r.version };
}

export async function runExistingCommand(a: RunExistingArgs): Promise<number> {
  const v = await validateExisting(a.kubeconfig, a.context);
  if ('environment' in v) {
    process.stderr.write(`pci-harness run: ${v.environment}\n  hint: check the context with \`kubectl --kubeconfig ${a.kubeconfig} --context ${a.context ?? '<current>'} get --raw /readyz\`\n`);
    return EXIT.environment;
  }
  const { target, version } = v;
  const cli = locateKyvernoCli();
  if (!('found' in cli)) throw new InputError('the Kyverno CLI is needed for the admission predictions', { hint: 'npx pci-harness images build kyverno-cli' });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = resolve(a.out ?? join('reports', stamp));
  mkdirSync(out, { recursive: true });
  const started = Date.now();
  const label = a.manifestsLabel ?? DEFAULT_MANIFESTS;
  const say = (l: string) => process.stderr.write(`${l}\n`);
  say(`\n==> [1/3] offline check of ${label}`);
  const set = a.set ?? loadManifestDir(join(REPO_ROOT, 'manifests'));
  const check = await runAnalyzers(set, defaultAnalyzers());
  const titles = controlMapTitles(set);
  const meta = { manifests: label, manifestsDir: set.dir, version: VERSION };
  const checkText = writeCheckFiles(out, summarize(check.results, titles), meta);
  const offlineSeconds = (Date.now() - started) / 1000;

  say(`\n==> [2/3] existing cluster: context ${target.context}, server ${target.server} (Kubernetes ${version}); non-destructive checks only`);
  const liveDir = join(out, FILES.liveResults);
  rmSync(liveDir, { recursive: true, force: true });
  process.env.PCI_LIVE_RESULTS = liveDir;
  const t1 = Date.now();
  const images = chooseImageSource('auto');
  const auditDir = process.env.PCI_HARNESS_AUDIT_LOG_DIR || undefined;
  const r = await runExisting({
    target,
    set,
    images,
    kyvernoCli: cli.found.path,
    ...(process.env.PCI_HARNESS_PROBE_IMAGE ? { probeImage: process.env.PCI_HARNESS_PROBE_IMAGE } : {}),
    ...(auditDir ? { auditDir } : {}),
    log: (l) => say(`[existing ${target.context}] ${l}`),
  });
  const liveSeconds = (Date.now() - t1) / 1000;
  const coverageText = renderCoverage(r.coverage);
  process.stdout.write(`\nCoverage on the existing cluster (context ${target.context}):\n${coverageText}\n`);
  writeEvidence(join(out, EXISTING_FILES.coverage), `Coverage of pci-harness run on an existing cluster (context ${target.context}, server ${target.server})\n\n${coverageText}\n`);
  writeEvidence(
    join(out, EXISTING_FILES.target),
    `${JSON.stringify({ mode: 'existing cluster', context: target.context, cluster: target.clusterName, server: target.server, kubernetes: version, namespace: r.scope.namespace, guard: { selfTest: r.guard.selfTest, refused: r.guard.refused, allowedWrites: r.guard.allowedWrites }, canary: r.canary ? { verdict: r.canary.verdict, proven: r.canary.proven } : null, errors: r.errors, timings: r.timings }, null, 2)}\n`,
  );

  say(`\n==> [3/3] evidence package: ${out}`);
  const liveResults = redactValue(readLiveResults(liveDir));
  const outcome = undefined;
  const liveSummary = writeLiveFiles(out, liveResults, titles, meta, outcome);
  const unmapped = unmappedLivePairs(liveResults);
  if (unmapped.length) say(`pci-harness run: warning: live results under requirements their check does not declare: ${unmapped.join('; ')}`);
  // No vitest child here: each step that could not finish is an inconclusive failure; the guard not refusing is a failure.
  const failures = [
    ...r.errors.map((e) => ({ name: `existing: ${e.step}`, messages: [`INCONCLUSIVE: ${e.message}`] })),
    ...(r.guard.selfTest === 'refused' ? [] : [{ name: 'existing: guard self-test', messages: ['the guard did not refuse a write outside the run namespace'] }]),
  ];
  const verdict = runVerdict({ offline: check.results, live: { results: liveResults, vitest: { executed: liveResults.filter((x) => x.status !== 'skip').length, failures } } });
  const git = await execa('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, reject: false });
  const commit = git.exitCode === 0 ? git.stdout.trim() : 'unknown';
  const mode = `existing cluster: context ${target.context}, server ${target.server} (Kubernetes ${version}); run namespace ${r.scope.namespace} (deleted)`;
  writeEvidence(
    join(out, FILES.summary),
    renderSummaryMd({ stamp, seconds: Math.round((Date.now() - started) / 1000), commit, images: `existing cluster (probe image ${process.env.PCI_HARNESS_PROBE_IMAGE ?? images.probeImage})`, manifests: meta.manifests, hasImageRecord: false, checkText, live: { summary: liveSummary, outcome }, verdict }).replace(
      '\n## Offline proof',
      `\n- mode: ${mode}\n\n## Coverage on the existing cluster\n\nNOT TESTED rows say why; they are never a pass.\n\n\`\`\`\n${coverageText}\n\`\`\`\n\n## Offline proof`,
    ),
  );
  const report: RunReport = {
    context: {
      version: VERSION,
      runId: stamp,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      commit,
      manifests: meta.manifests,
      manifestDigest: treeDigest(set.dir),
      imageSource: mode,
      versions: { kubernetes: version, images: [] },
      timings: [{ step: 'offline check', seconds: offlineSeconds }, ...r.timings, { step: 'existing cluster (all steps, namespace create/delete included)', seconds: liveSeconds }],
      verdict,
    },
    offline: check.results,
    live: liveResults,
    titles,
  };
  const { redacted, signedBy } = finishPackage(out, report, a.signingKey ? { signingKey: a.signingKey } : {});
  if (a.signingPath) say(`signed ${PACKAGE_FILES.attestation} with ${signedBy} (${a.signingPath})`);
  if (redacted.length) say(`redacted credentials in: ${redacted.join(', ')}`);
  for (const reason of verdict.reasons) say(`  ${reason}`);
  say(`evidence written to ${out} (exit ${verdict.code}); open ${join(out, PACKAGE_FILES.html)}`);
  if (!existsSync(join(out, PACKAGE_FILES.html))) return EXIT.environment;
  return verdict.code;
}
