/**
 * Kyverno area: the set's ClusterPolicies are run by the REAL Kyverno CLI
 * (1.16, built from its Go module) against behaviour fixtures with expected
 * verdicts (suites/offline/fixtures/kyverno/), plus a static check that every
 * rule enforces per rule.
 *
 * Checks: kyverno.policies (Pod rules), kyverno.autogen (the same rules on
 * Deployments via Kyverno autogen), kyverno.generate (default-deny-all
 * generated for in-scope Namespaces), kyverno.failure-action,
 * kyverno.verify-coverage (static: every CDE image is signature-verified and
 * the allowed registries are the verified ones).
 *
 * verifyImages rules are kept out of the CLI run: checking a signature needs
 * the registry, which the offline lane does not have (the CLI would fail every
 * CDE image on the fetch). Their coverage is proven statically here, their
 * behaviour live (suites/live/scenarios/signed-images.test.ts).
 *
 * Not provable here, and left to the live lane: Kyverno skips its own
 * namespace and kube-system/kube-public/kube-node-lease by default
 * (resourceFilters in the kyverno ConfigMap), and reads namespace labels from
 * a cache; Pod Security Admission rejects before Kyverno sees a request, so
 * isolating the two layers (guide defect 11) needs a real apiserver.
 */
import { at, type Analyzer, type CheckOptions, type CheckResult } from '../check/types.ts';
import type { LoadedObject, ManifestSet } from '../manifests/types.ts';
import { KYVERNO_MISSING_HINT, kyvernoVersion, locateKyvernoCli } from '../tools/kyverno-cli.ts';
import { runBatch, type CliRun } from './kyverno/cli-run.ts';
import { evaluate } from './kyverno/evaluate.ts';
import { failureActionResults } from './kyverno/failure-action.ts';
import { DEFAULT_FIXTURE_DIR, loadFixtures } from './kyverno/fixtures.ts';
import { placeFixtures, placementInputOf } from './kyverno/placement.ts';
import { isKyvernoPolicy, rulesOf } from './kyverno/policy.ts';
import { verifyCoverageResults } from './kyverno/verify-coverage.ts';
import { inScopeNamespaces } from './workloads.ts';
import type { Fixture } from './kyverno/fixtures.ts';

const WORKLOAD_KINDS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);

/**
 * The set's own workloads are fixtures too: every in-scope workload must be
 * admitted by the set's policies (a workload the CDE policy would deny cannot
 * run, or shows the manifests drifted from the policy), and out-of-scope ones
 * must not be touched.
 */
function workloadFixtures(set: ManifestSet): Fixture[] {
  const inScope = new Set(inScopeNamespaces(set));
  return set.objects
    .filter((o) => WORKLOAD_KINDS.has(o.object.kind) && o.object.metadata.namespace)
    .map((o) => {
      const ns = o.object.metadata.namespace!;
      return {
        object: o.object,
        file: o.source.file,
        line: o.source.line,
        expect: inScope.has(ns) ? 'admit' : 'not-matched',
        requirement: '2.2.6',
        description: inScope.has(ns) ? `the set's own CDE workload ${o.object.metadata.name} is admitted` : `out-of-scope workload ${o.object.metadata.name} is not affected`,
        check: 'kyverno.policies',
      };
    });
}

const BEHAVIOUR_CHECKS = [
  ['kyverno.policies', '2.2.6'],
  ['kyverno.autogen', '2.2.6'],
  ['kyverno.generate', '1.3.1'],
] as const;

export interface KyvernoAnalyzerOptions {
  /** Fixture directory (tests point it at their own). */
  fixtureDir?: string;
  /** Called with each CLI run's timing, for the report and the benchmark. */
  onRun?: (info: { cli: string; version: string; durationMs: number }) => void;
}

/** Autogen is on unless the policy opts out with pod-policies.kyverno.io/autogen-controllers: none. */
function autogenSettingResults(policies: LoadedObject[]): CheckResult[] {
  const out: CheckResult[] = [];
  for (const p of policies) {
    const v = p.object.metadata.annotations?.['pod-policies.kyverno.io/autogen-controllers'];
    const podRules = rulesOf(p).some(({ rule }) => JSON.stringify(rule.match ?? {}).includes('"Pod"'));
    if (podRules && v !== undefined && !/Deployment/.test(v)) {
      out.push(
        at(
          p,
          {
            check: 'kyverno.autogen',
            requirement: '2.2.6',
            status: 'fail',
            message: `pod-policies.kyverno.io/autogen-controllers is "${v}": Deployments are not checked at admission (PSA only checks Pods, so a bad Deployment is admitted and its ReplicaSet fails later); remove the annotation`,
          },
          ['metadata', 'annotations', 'pod-policies.kyverno.io/autogen-controllers'],
        ),
      );
    }
  }
  return out;
}

/** The policies as the CLI gets them: verifyImages rules removed (a policy left with no rule is dropped). */
export function withoutVerifyImages(policies: LoadedObject[]): LoadedObject[] {
  const out: LoadedObject[] = [];
  for (const p of policies) {
    const rules = ((p.object as { spec?: { rules?: Array<Record<string, unknown>> } }).spec?.rules ?? []);
    const kept = rules.filter((r) => !r.verifyImages);
    if (kept.length === rules.length) out.push(p);
    else if (kept.length > 0) out.push({ ...p, object: { ...p.object, spec: { ...(p.object as unknown as { spec: object }).spec, rules: kept } } as unknown as LoadedObject['object'] });
  }
  return out;
}

function notRun(policies: LoadedObject[], status: 'fail' | 'skip', message: string): CheckResult[] {
  const anchor = policies[0]!;
  return BEHAVIOUR_CHECKS.map(([check, requirement]) => at(anchor, { check, requirement, status, message }));
}

/** Policies the CLI rejected, skipped, or exited on: each is a failure at the policy. */
function cliProblems(run: CliRun, policies: LoadedObject[]): CheckResult[] {
  const out: CheckResult[] = [];
  for (const name of run.invalidPolicies) {
    const p = policies.find((x) => x.object.metadata.name === name) ?? policies[0]!;
    out.push(at(p, { check: 'kyverno.policies', requirement: '2.2.6', status: 'fail', message: `the Kyverno CLI rejected or skipped policy ${name}: it would not be enforced. CLI output:\n${run.outputTail}` }));
  }
  // `kyverno apply` exits 1 when a rule fails (the deny fixtures do); anything else without reports is a crash.
  if (run.results.length === 0) {
    out.push(at(policies[0]!, { check: 'kyverno.policies', requirement: '2.2.6', status: 'fail', message: `the Kyverno CLI produced no policy report (exit ${run.exitCode}); policies are unusable. CLI output:\n${run.outputTail}` }));
  }
  return out;
}

export async function runKyverno(set: ManifestSet, options: CheckOptions, extra: KyvernoAnalyzerOptions = {}): Promise<CheckResult[]> {
  const policies = set.objects.filter(isKyvernoPolicy);
  if (policies.length === 0) {
    return [
      {
        check: 'kyverno.policies',
        requirement: '2.2.6',
        status: 'fail',
        message: 'the set has no Kyverno ClusterPolicy: nothing enforces the CDE pod security controls at admission; add manifests/cluster/*kyverno*.yaml',
        file: set.dir,
      },
    ];
  }
  const results = [...failureActionResults(policies), ...autogenSettingResults(policies), ...verifyCoverageResults(set)];
  if (options.skipKyverno) {
    return [...results, ...notRun(policies, 'skip', 'Kyverno CLI lane skipped (--skip-kyverno): policy behaviour NOT proven')];
  }
  const located = locateKyvernoCli(options.kyvernoCli);
  if ('missing' in located) {
    return [...results, ...notRun(policies, 'fail', `${KYVERNO_MISSING_HINT} (looked at: ${located.missing.join('; ')})`)];
  }
  const cli = located.found.path;
  // On a set without the shipped namespaces the fixtures are moved onto the set's own (kyverno/placement.ts).
  const placement = placeFixtures(loadFixtures(extra.fixtureDir ?? DEFAULT_FIXTURE_DIR), placementInputOf(set));
  if ('error' in placement) return [...results, ...notRun(policies, 'fail', placement.error)];
  const fixtures = [...placement.fixtures, ...workloadFixtures(set)];
  const namespaces = set.objects.filter((o) => o.object.kind === 'Namespace' && o.object.apiVersion === 'v1');
  const run = await runBatch({ cli, policies: withoutVerifyImages(policies), namespaces, fixtures: fixtures.map((f) => f.object) });
  extra.onRun?.({ cli, version: await kyvernoVersion(cli).catch(() => 'unknown'), durationMs: run.durationMs });
  const problems = cliProblems(run, policies);
  return [...results, ...problems, ...(run.results.length ? evaluate(run, fixtures, policies) : [])];
}

export const kyvernoAnalyzer: Analyzer = {
  area: 'kyverno',
  title: 'Kyverno policies enforce CDE pod controls (real Kyverno CLI)',
  external: true,
  run: (set, options) => runKyverno(set, options),
};
