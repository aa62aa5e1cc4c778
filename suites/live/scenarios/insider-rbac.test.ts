import { liveManifestsDir } from '../../../harness/scenario/context.ts';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { effectivePermissions } from '../../../harness/analyzers/rbac/effective.ts';
import { accessTables } from '../../../harness/analyzers/rbac/scope.ts';
import { subjectLabel, type Subject } from '../../../harness/analyzers/rbac/types.ts';
import { REPO_ROOT } from '../../../harness/cluster/paths.ts';
import type { Cluster } from '../../../harness/cluster/provider.ts';
import { redactCredentials } from '../../../harness/evidence/bundle.ts';
import { loadManifestDir } from '../../../harness/manifests/load.ts';
import { compareRules, describeMismatch, identityOf, type RbacComparison, type RulesReviewStatus } from '../../../harness/scenario/rbac-live.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';
import { inPool } from '../../../harness/scenario/pool.ts';

/**
 * Predicted vs observed, the RBAC half. For every subject of the access table
 * (manifests/spec/access.yaml), impersonated, the live API server's
 * SelfSubjectRulesReview in every namespace the table names — plus `default`,
 * a namespace the table names for nobody, so a cluster-wide grant shows up
 * on its own — must equal the offline prediction of `rbac.least-privilege`
 * (the same code: effectivePermissions over loadManifestDir(manifests/)).
 *
 * Compared, precisely (harness/scenario/rbac-live.ts): the literal expansion
 * of the review's resource and non-resource rules into elementary permissions
 * (verb × group × resource[/sub] × name; verb × URL) equals the set's grants
 * covering the identity in that namespace (RoleBindings there and
 * ClusterRoleBindings) plus the four bootstrap bindings every identity gets
 * from its system groups (system:basic-user, system:discovery,
 * system:public-info-viewer for system:authenticated;
 * system:service-account-issuer-discovery for system:serviceaccounts), which
 * grant only self-reviews and discovery/health/OIDC URLs. Anything else, in
 * either direction, is a finding: `PREDICTION MISMATCH`.
 */
const SCENARIO = 'insider.rbac-prediction';
const set = loadManifestDir(liveManifestsDir());
const eff = effectivePermissions(set);
const entries = accessTables(set).flatMap((t) => t.spec.subjects ?? []);
const SUBJECTS: Subject[] = entries.map((e) => e.subject as Subject);
const TABLE_NAMESPACES = [
  ...new Set(entries.flatMap((e) => [...(e.allow ?? []).map((a) => a.namespace), e.subject.namespace]).filter((n): n is string => typeof n === 'string' && n !== '')),
].sort();
/** A namespace the table grants nobody anything in: only cluster-wide grants may appear there. */
const WITNESS = 'default';
const NAMESPACES = [...TABLE_NAMESPACES, ...(TABLE_NAMESPACES.includes(WITNESS) ? [] : [WITNESS])];

let cluster: Cluster;
const k = () => `kubectl --kubeconfig ${cluster.kubeconfigPath}`;
const ssrr = (ns: string) => JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: ns } });

beforeAll(() => {
  cluster = sharedCluster();
});

describe('predicted vs observed: every access-table subject has, live, exactly the permissions rbac.least-privilege computes', () => {
  it(`the table names subjects and namespaces (${TABLE_NAMESPACES.join(', ')}; witness ${WITNESS})`, () => {
    expect(SUBJECTS.length).toBeGreaterThan(0);
    expect(TABLE_NAMESPACES.length).toBeGreaterThan(0);
  });

  for (const subject of SUBJECTS) {
    it(`${subjectLabel(subject)}: SelfSubjectRulesReview in ${NAMESPACES.join(', ')} equals the prediction`, async () => {
      const id = identityOf(subject, `insider-rbac-${subject.name}`);
      const results = await inPool(NAMESPACES, 4, async (ns): Promise<LiveResult> => {
        const t0 = Date.now();
        const replay = `echo '${ssrr(ns)}' | ${k()} create --raw /apis/authorization.k8s.io/v1/selfsubjectrulesreviews -f - ${id.args.join(' ')}`;
        const base = {
          lane: 'live' as const,
          check: 'live.rbac.prediction' as const,
          requirement: '7.2.2',
          scenario: SCENARIO,
          adversary: `${subjectLabel(subject)} (impersonated as user ${id.user})`,
          action: `SelfSubjectRulesReview in ${ns}`,
          predicted: 'permitted' as const,
          layer: { kind: 'rbac' as const, names: ['effectivePermissions(manifests/) + bootstrap system:* bindings'] },
          replay,
        };
        const r = await cluster.kubectl(['create', '--raw', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', '-f', '-', ...id.args], { input: ssrr(ns), reject: false, timeoutMs: 30_000 });
        let c: RbacComparison;
        try {
          if (r.exitCode !== 0) throw new Error(`kubectl exit ${r.exitCode}: ${r.stderr.trim()}`);
          const status = (JSON.parse(r.stdout) as { status?: RulesReviewStatus }).status;
          if (!status) throw new Error('the review has no status');
          c = compareRules(eff, id, ns, status);
          if (c.incomplete) throw new Error(`the review is incomplete${status.evaluationError ? `: ${status.evaluationError}` : ''}`);
        } catch (e) {
          const msg = redactCredentials((e as Error).message);
          return { ...base, status: 'inconclusive', observed: 'check-failed', message: `instrument failed: ${msg}`, evidence: msg, ms: Date.now() - t0 };
        }
        return {
          ...base,
          status: c.equal ? 'pass' : 'fail',
          // permitted: exactly the predicted set; a mismatch with extras permits more, one with only gaps forbids predicted things.
          observed: c.equal || c.extra.length ? 'permitted' : 'forbidden',
          message: c.equal ? `${c.counts.observed} live permissions in ${ns} = the ${c.counts.predicted} predicted` : describeMismatch(c),
          evidence: `predicted ${c.counts.predicted} atoms, observed ${c.counts.observed}; extra: [${c.extra.join('; ')}]; missing: [${c.missing.join('; ')}]`,
          ...(c.equal ? {} : { finding: describeMismatch(c) }),
          ms: Date.now() - t0,
        };
      });
      recordLiveResults(results);
      for (const r of results) expect(r.status, explain(r)).toBe('pass');
    });
  }
});
