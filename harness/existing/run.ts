import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import type { CanaryResult } from '../cluster/canary.ts';
import type { ImageSource } from '../cluster/images.ts';
import type { Cluster } from '../cluster/provider.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { cdeNamespaces } from '../analyzers/rbac/scope.ts';
import type { LiveResult } from '../scenario/result.ts';
import { recordLiveResults } from '../scenario/sink.ts';
import { dryRunUnsafeDeploys } from './admission.ts';
import { auditOwnWrites, openAudit } from './audit.ts';
import { runOwnCanary } from './canary.ts';
import { NEVER_ON_EXISTING, notTestedResults, ranDetail, type CoverageRow } from './coverage.ts';
import { GuardRefusal, guardKubeConfig, guardKubectl, scopeFor, type GuardLog, type GuardScope } from './guard.ts';
import { withOwnNamespace } from './namespace.ts';
import { reachabilityFromOwnNamespace } from './network.ts';
import { accessReviews } from './rbac.ts';
import { targetCluster, targetKubectlArgs, type ExistingTarget } from './target.ts';

/**
 * `pci-harness run --kubeconfig F [--context C]`: the non-destructive checks
 * on a cluster the harness did not create, in order, inside the run's own
 * namespace (created first, deleted last, on every exit path):
 *   guard self-test  a write outside the namespace must be refused before it is sent
 *   canary           NetworkPolicy enforcement, in the run's namespace
 *   reachability     from an unlabelled pod there, as the offline model predicts
 *   admission        server dry runs of the unsafe deploys into the CDE namespaces
 *   access           SubjectAccessReview / SelfSubjectRulesReview of the access table
 *   audit            the run's own writes in the log, where the log is readable
 * and the coverage table: each of these with its counts, and everything it
 * could not run, with why. Every mutating kubectl call goes through the guard.
 */
export interface ExistingRunOptions {
  target: ExistingTarget;
  set: ManifestSet;
  images: ImageSource;
  /** The image of the probe pods (default: the harness's local probe image). */
  probeImage?: string;
  kyvernoCli: string;
  /** Directory of the API server's audit log files, when this machine can read it. */
  auditDir?: string;
  runId?: string;
  log?: (line: string) => void;
}

export interface ExistingRunResult {
  scope: GuardScope;
  results: LiveResult[];
  coverage: CoverageRow[];
  guard: GuardLog & { selfTest: 'refused' | 'NOT REFUSED' };
  canary?: CanaryResult;
  /** A step that could not finish (its checks count as inconclusive, with this message). */
  errors: Array<{ step: string; message: string }>;
  timings: Array<{ step: string; seconds: number }>;
}

export function newRunId(): string {
  return `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}

export async function runExisting(o: ExistingRunOptions): Promise<ExistingRunResult> {
  const log = o.log ?? (() => {});
  const scope = scopeFor(o.runId ?? newRunId());
  const raw = targetCluster(o.target, o.images, `existing:${o.target.context}`);
  const guardLog: GuardLog = { refused: [], allowedWrites: 0 };
  const probeImage = o.probeImage ?? o.images.probeImage;
  const cluster: Cluster = { ...raw, kubeClient: guardKubeConfig(scope, raw.kubeClient, guardLog), kubectl: guardKubectl(scope, raw.kubectl, guardLog), images: { ...o.images, cdeProbeImage: probeImage } };
  const replay = `kubectl ${targetKubectlArgs(o.target).join(' ')}`;
  const results: LiveResult[] = [];
  const coverage: CoverageRow[] = [];
  const errors: ExistingRunResult['errors'] = [];
  const timings: ExistingRunResult['timings'] = [];
  const record = (rs: LiveResult[]) => {
    recordLiveResults(rs);
    results.push(...rs);
  };
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const t0 = Date.now();
    log(`${name} ...`);
    try {
      return await fn();
    } catch (e) {
      const message = (e as Error).message.split('\n')[0]!.slice(0, 400);
      errors.push({ step: name, message });
      log(`${name}: INCONCLUSIVE — ${message}`);
      return undefined;
    } finally {
      timings.push({ step: name, seconds: (Date.now() - t0) / 1000 });
      log(`${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  };
  const cde = [...cdeNamespaces(o.set)].sort();
  let selfTest: 'refused' | 'NOT REFUSED' = 'NOT REFUSED';
  let canary: CanaryResult | undefined;
  const audit = openAudit(o.auditDir);

  await withOwnNamespace(
    cluster.kubectl,
    scope,
    async () => {
      // The guard, proven on this cluster each run: a real (not dry-run) write into a namespace the run does not own.
      await step('guard self-test', async () => {
        const probe = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `pci-harness-guard-${scope.runId}`, namespace: cde[0] ?? 'default' } };
        try {
          await cluster.kubectl(['create', '-f', '-'], { input: stringify(probe), reject: false });
        } catch (e) {
          if (e instanceof GuardRefusal) selfTest = 'refused';
          else throw e;
        }
        const there = await raw.kubectl(['get', 'configmap', probe.metadata.name, '-n', probe.metadata.namespace, '--ignore-not-found', '-o', 'name'], { reject: false });
        if (there.stdout.trim()) selfTest = 'NOT REFUSED';
      });
      coverage.push({ area: 'guard: a write outside the run\'s namespace (a ConfigMap in a CDE namespace)', requirements: [], state: 'ran', detail: selfTest === 'refused' ? 'refused before it was sent; the object does not exist' : 'NOT REFUSED: the guard let it through' });

      canary = await step('enforcement canary (own namespace)', () => runOwnCanary(cluster, scope.namespace, probeImage));
      if (canary) {
        record([
          {
            lane: 'live',
            check: 'live.network.canary',
            requirement: '1.2.1',
            status: canary.verdict === 'enforced' ? 'pass' : canary.verdict === 'not-enforced' ? 'fail' : 'inconclusive',
            scenario: 'existing.canary',
            adversary: 'the harness (its own pods, in its own namespace)',
            action: 'baseline → deny-ingress → removed → deny-egress → removed',
            predicted: 'blocked',
            observed: canary.verdict === 'enforced' ? 'blocked' : canary.verdict === 'not-enforced' ? 'allowed' : 'check-failed',
            layer: { kind: 'networkpolicy', names: ['canary-deny-ingress', 'canary-deny-egress'] },
            message: `enforcement canary in ${scope.namespace}: ${canary.verdict} — ${canary.detail}`,
            evidence: canary.steps.map((s) => `${s.step} ${s.client}: expected ${s.expected}, observed ${s.observed} (${s.detail})`).join('\n'),
            replay: 'pci-harness run --kubeconfig ... (the canary runs first)',
          },
        ]);
        coverage.push({ area: 'NetworkPolicy enforcement canary', requirements: ['1.2.1'], state: 'ran', detail: `${canary.verdict}: ${canary.proven.join(', ') || canary.detail}` });
        if (!canary.proven.some((p) => p.includes('cross-node'))) coverage.push({ area: 'enforcement across nodes', requirements: ['1.2.1'], state: 'NOT TESTED', detail: 'fewer than two untainted nodes: the canary ran on one node only' });
      }

      if (canary?.verdict === 'enforced') {
        const net = await step('reachability from the run namespace', () => reachabilityFromOwnNamespace(cluster, o.set, scope));
        if (net) {
          record(net.run.results);
          coverage.push({ area: `reachability: an unlabelled pod in ${scope.namespace} toward every workload, kube-dns, the API server, a kubelet`, requirements: [...new Set(net.run.results.map((r) => r.requirement))].sort(), state: 'ran', detail: ranDetail(net.run.results) });
          await net.position.dispose();
        }
      } else {
        coverage.push({ area: 'reachability from the run namespace', requirements: ['1.2.1', '1.3.1'], state: 'NOT TESTED', detail: `NetworkPolicy enforcement is not proven (${canary?.verdict ?? 'the canary did not run'}): no network verdict is believed` });
      }

      const adm = await step('admission (server dry run)', () => dryRunUnsafeDeploys(cluster, o.set, o.kyvernoCli, scope.runId.replace(/[^a-z0-9]/g, '').slice(-6), replay));
      if (adm) {
        record(adm.results);
        coverage.push({ area: `admission: unsafe Pods and Deployments into ${cde.join(', ')} (--dry-run=server)`, requirements: [...new Set(adm.results.map((r) => r.requirement))].sort(), state: 'ran', detail: ranDetail(adm.results) });
        if (adm.missingNamespaces.length) coverage.push({ area: `admission into ${adm.missingNamespaces.join(', ')}`, requirements: ['2.2.1', '2.2.6'], state: 'NOT TESTED', detail: 'the set\'s CDE namespace is not on this cluster (the set is not applied here as declared)' });
      }

      const rbac = await step('access reviews', () => accessReviews(cluster, o.set, replay));
      if (rbac) {
        record(rbac);
        const skipped = rbac.filter((r) => r.status === 'skip');
        coverage.push({ area: 'access table: SubjectAccessReview and SelfSubjectRulesReview per subject and namespace', requirements: ['7.2.1', '7.2.2'], state: 'ran', detail: ranDetail(rbac) });
        if (skipped.length) coverage.push({ area: 'access reviews the kubeconfig may not make', requirements: ['7.2.2'], state: 'NOT TESTED', detail: skipped[0]!.message });
      }

      if ('unreadable' in audit) {
        coverage.push({ area: 'audit log: the run\'s own writes recorded with its identity', requirements: ['10.2.1'], state: 'NOT TESTED', detail: `the audit log file is not readable here: ${audit.unreadable}` });
      } else {
        const ev = await step('audit log', () => auditOwnWrites(audit, scope.namespace, adm?.results.length ? cde.find((ns) => !adm.missingNamespaces.includes(ns)) : undefined));
        if (ev) {
          record(ev);
          coverage.push({ area: `audit log (${audit.dir}): the run's own writes`, requirements: ['10.2.1'], state: 'ran', detail: ranDetail(ev) });
        }
      }
    },
    log,
  );
  coverage.push(...NEVER_ON_EXISTING);
  record(notTestedResults(coverage));
  return { scope, results, coverage, guard: { ...guardLog, selfTest }, ...(canary ? { canary } : {}), errors, timings };
}
