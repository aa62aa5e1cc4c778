import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/cluster/paths.ts';
import { cacheDir } from '../../harness/tools/locate.ts';
import type { LiveResult } from '../../harness/scenario/result.ts';
import { SHIPPED_SET_ONLY } from '../../harness/scenario/set-coverage.ts';
import { containersOf } from '../../harness/cluster/kind/docker.ts';
import { TWO_TIER, writeTwoTierSet } from '../offline/fixtures/byo/two-tier.ts';

/**
 * The live lane on a set that is not the shipped one, end to end through the
 * user's command: two tiers instead of three, other namespaces (storefront,
 * ledger), workloads and ports (8080, 6379), no ingress namespace, a support
 * group of its own. `pci-harness init` drafts its spec, a person marks it
 * reviewed, and `pci-harness run --manifests` boots a cluster with it and
 * attacks it: every live file that derives its attacks from the set must
 * run and pass, nothing may name a shipped workload, the files written for
 * the shipped set are NOT TESTED with their reason, and nothing is left.
 */
const SHIPPED_NAMES = /payment-api|card-processor|datastore|cde-frontend|cde-processing|cde-storage/;
const PEOPLE = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: ledger-support, namespace: ${TWO_TIER.db.namespace} }
rules:
  - { apiGroups: [""], resources: [pods, configmaps], verbs: [get, list, watch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ledger-support, namespace: ${TWO_TIER.db.namespace} }
subjects:
  - { kind: Group, name: ledger-support, apiGroup: rbac.authorization.k8s.io }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: ledger-support }
`;

const cli = (args: string[], timeout: number) =>
  execa(process.execPath, [join(REPO_ROOT, 'scripts/pci-harness.mjs'), ...args], { reject: false, all: true, timeout, env: { PCI_LIVE_KUBECONFIG: '', PCI_LIVE_MANIFESTS: '' } });

let root: string;
let out: string;
let exitCode: number | undefined;
let log = '';
interface Results<T> {
  manifests: string;
  results: T[];
}
let context: { runId: string; manifests: string; verdict: { code: number; reasons: string[] } };
let offline: Results<{ status: string }>;
let live: LiveResult[] = [];
let tests: Array<{ file: string; state: string; name: string }> = [];
const readJson = <T>(f: string): T => JSON.parse(readFileSync(join(out, f), 'utf8')) as T;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pci-byo-live-'));
  const set = join(root, 'shop');
  writeTwoTierSet(set, join(REPO_ROOT, 'manifests'));
  writeFileSync(join(set, 'app', 'people.yaml'), PEOPLE);
  const init = await cli(['init', '--manifests', set, '--out', join(set, 'spec')], 120_000);
  if (init.exitCode !== 0) throw new Error(`init failed: ${init.all}`);
  // The person's review: here, everything init observed is what is intended.
  for (const f of readdirSync(join(set, 'spec'))) {
    const p = join(set, 'spec', f);
    writeFileSync(p, readFileSync(p, 'utf8').replace('pci-harness.dev/review: draft', 'pci-harness.dev/review: reviewed'));
  }
  out = join(root, 'evidence');
  const r = await cli(['run', '--manifests', set, '--out', out], 2_400_000);
  exitCode = r.exitCode;
  log = r.all ?? '';
  context = readJson('run.json');
  offline = readJson('check.json');
  live = readJson<Results<LiveResult>>('live.json').results;
  tests = readJson<{ tests: typeof tests }>('live.vitest.json').tests;
}, 2_500_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const ran = () => live.filter((r) => r.status !== 'skip' || !r.scenario.startsWith('not-run.'));

describe('pci-harness run --manifests on a two-tier set unlike the shipped one', () => {
  it('exits 0: the set passes offline and live on its merits, and the evidence names it', () => {
    expect(exitCode, `${context?.verdict.reasons.join('\n')}\n${log.slice(-4000)}`).toBe(0);
    expect(context.manifests).toMatch(/shop$/);
    expect(offline.manifests).toMatch(/shop$/);
    expect(offline.results.filter((r) => r.status === 'fail')).toEqual([]);
  });

  it('every live file that derives its attacks from the set ran and passed; the shipped-only files did not run', () => {
    const files = new Set(tests.map((t) => t.file));
    for (const f of ['suites/live/scenarios/lateral-matrix.test.ts', 'suites/live/scenarios/insider-secrets.test.ts', 'suites/live/scenarios/cde-nodes.test.ts', 'suites/live/canary.test.ts']) {
      expect([...files].some((x) => x.endsWith(f)), f).toBe(true);
    }
    for (const s of SHIPPED_SET_ONLY) expect([...files].some((x) => x.endsWith(s.file)), s.file).toBe(false);
    expect(tests.filter((t) => t.state === 'failed').map((t) => `${t.file} > ${t.name}`)).toEqual([]);
  });

  it("the matrix attacked the set's own workloads on its own ports, and predicted both verdicts", () => {
    const matrix = live.filter((r) => r.check === 'live.network.matrix' && r.status !== 'skip');
    expect(matrix.some((r) => r.action.includes(`${TWO_TIER.db.namespace}/${TWO_TIER.db.name}`) && r.action.includes(String(TWO_TIER.db.port)) && r.observed === 'allowed')).toBe(true);
    expect(matrix.some((r) => r.action.includes(`${TWO_TIER.web.namespace}/${TWO_TIER.web.name}`) && r.observed === 'blocked')).toBe(true);
    expect(matrix.filter((r) => r.status !== 'pass')).toEqual([]);
  });

  it("nothing that ran names a shipped workload or namespace", () => {
    const named = ran().filter((r) => SHIPPED_NAMES.test(`${r.action} ${r.message} ${r.object ?? ''} ${r.adversary}`));
    expect(named.map((r) => `${r.scenario}: ${r.action}`)).toEqual([]);
  });

  it("the set's own NetworkPolicies were weakened live and the matrix turned red (derived mutants KILLED)", () => {
    const mutants = live.filter((r) => r.scenario.startsWith('mutant.set-'));
    expect(mutants.length).toBeGreaterThan(0);
    expect(mutants.filter((r) => r.status === 'pass' && /^KILLED/.test(r.message)).length).toBeGreaterThan(0);
    expect(mutants.filter((r) => r.status === 'fail' || r.status === 'inconclusive')).toEqual([]);
  });

  it('the insider is the set\'s own support group, denied its Secrets', () => {
    const insider = live.filter((r) => r.check === 'live.rbac.insider');
    expect(insider.some((r) => r.adversary.includes('ledger-support') && r.observed === 'forbidden')).toBe(true);
  });

  it('what was written for the shipped set is NOT TESTED, with its reason, never a pass', () => {
    const skipped = live.filter((r) => r.scenario.startsWith('not-run.'));
    expect(skipped.length).toBeGreaterThan(0);
    for (const r of skipped) {
      expect(r.status).toBe('skip');
      expect(r.message).toMatch(/^NOT TESTED on .*shop: suites\/live\/.* was written for the shipped set \(/);
    }
  });

  it('leaves nothing behind: no cluster, no laid-out set', async () => {
    // The boot's progress lines name the cluster: [pci-<time>-<hex> +1.2s] ...
    const clusters = [...log.matchAll(/\[(pci-[a-z0-9]+-[0-9a-f]{4}) \+/g)].map((m) => m[1]!);
    expect(clusters.length).toBeGreaterThan(0);
    for (const c of new Set(clusters)) expect(await containersOf(c), c).toEqual([]);
    expect(existsSync(join(cacheDir(), 'runs', 'live-sets', context.runId))).toBe(false);
  });
});
