import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { runAnalyzers } from '../../harness/check/run.ts';
import type { CheckResult } from '../../harness/check/types.ts';
import { loadManifests, type SourceOptions } from '../../harness/manifests/sources.ts';
import { specReviewAnalyzer } from '../../harness/spec/review.ts';
import { setFromTexts } from '../../harness/manifests/load.ts';
import type { FlowTableSpec } from '../../harness/spec/types.ts';
import { writeTwoTierSet, TWO_TIER } from './fixtures/byo/two-tier.ts';
import { cli, REPO, SHIPPED, STACK_FRAME } from './cli.ts';

/**
 * `pci-harness init` on a set unlike the shipped one (two tiers, other
 * namespaces and ports): the drafts make every declaration-driven check
 * decidable, `check` then fails ONLY spec.reviewed (a draft proves nothing),
 * and once a person marks them reviewed the set passes or fails on its
 * merits, the Kyverno CLI lane included: its behaviour fixtures are placed
 * on the set's own namespaces (harness/analyzers/kyverno/placement.ts; the
 * Kyverno lane on this set and its weakenings: byo-kyverno.test.ts).
 */
const SPEC_FILES = ['access.yaml', 'audit-expectations.yaml', 'flows.yaml', 'scope.yaml'];

async function failures(arg: string, opts: SourceOptions = {}): Promise<CheckResult[]> {
  const { results } = await runAnalyzers(loadManifests(arg, opts).set, defaultAnalyzers(), {});
  return results.filter((r) => r.status === 'fail');
}
const edit = (file: string, f: (text: string) => string) => writeFileSync(file, f(readFileSync(file, 'utf8')));
const markReviewed = (dir: string) => {
  for (const f of SPEC_FILES) edit(join(dir, f), (t) => t.replace('pci-harness.dev/review: draft', 'pci-harness.dev/review: reviewed'));
};

describe('pci-harness init on a two-tier set', () => {
  let set: string;
  let out: { code: number | undefined; stdout: string; stderr: string };
  beforeAll(async () => {
    set = join(mkdtempSync(join(tmpdir(), 'pci-init-')), 'set');
    writeTwoTierSet(set, SHIPPED);
    out = await cli(['init', '--manifests', set, '--out', join(set, 'spec')]);
  }, 120_000);

  it('writes the four declarations, each a draft, and says what to do next', () => {
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(readdirSync(join(set, 'spec')).sort()).toEqual(SPEC_FILES);
    for (const f of SPEC_FILES) {
      const doc = parse(readFileSync(join(set, 'spec', f), 'utf8'));
      expect(doc.metadata.annotations['pci-harness.dev/review'], f).toBe('draft');
    }
    expect(out.stdout).toMatch(/review every entry[\s\S]*"reviewed"[\s\S]*pci-harness check --manifests/);
  });

  it('drafts the flows the policies allow, each "observed in policy, confirm", and nothing the model invents', () => {
    const ft = parse(readFileSync(join(set, 'spec', 'flows.yaml'), 'utf8')).spec as FlowTableSpec;
    const { web, db } = TWO_TIER;
    const flows = ft.flows.map((f) => `${f.from.namespace}/${f.from.workload}>${f.to.namespace}/${f.to.workload}:${f.port}/${f.protocol}`).sort();
    expect(flows).toEqual(
      [
        `${db.namespace}/${db.name}>kube-system/kube-dns:53/TCP`,
        `${db.namespace}/${db.name}>kube-system/kube-dns:53/UDP`,
        `${web.namespace}/${web.name}>kube-system/kube-dns:53/TCP`,
        `${web.namespace}/${web.name}>kube-system/kube-dns:53/UDP`,
        `${web.namespace}/${web.name}>${db.namespace}/${db.name}:${db.port}/TCP`,
      ].sort(),
    );
    for (const f of ft.flows) expect(f.why).toMatch(/^observed in policy, confirm: /);
    expect(ft.flows.find((f) => f.port === db.port)?.why).toMatch(/egress storefront\/web-egress; ingress ledger\/db-ingress/);
  });

  it('check fails only spec.reviewed (12.5.2) while the declarations are drafts', async () => {
    const f = await failures(set);
    expect(f.map((r) => `${r.requirement} ${r.check} ${r.file}`).sort()).toEqual(SPEC_FILES.map((x) => `12.5.2 spec.reviewed spec/${x}`));
  });

  it('once reviewed, the set passes on its merits; a reviewer who narrows intent makes it fail on them', async () => {
    const dir = join(set, 'spec');
    markReviewed(dir);
    expect(await failures(set)).toEqual([]);
    // The reviewer decides ledger-db needs no DNS and shop-web only reads its settings (no watch).
    edit(join(dir, 'flows.yaml'), (t) => {
      const doc = parse(t);
      doc.spec.flows = (doc.spec.flows as FlowTableSpec['flows']).filter((x) => !(x.from.workload === TWO_TIER.db.name && x.port === 53));
      return JSON.stringify(doc);
    });
    edit(join(dir, 'access.yaml'), (t) => t.replace(/- get\n(\s+)- watch/, '- get'));
    const f = await failures(set);
    expect([...new Set(f.map((r) => `${r.requirement} ${r.check}`))].sort()).toEqual(['1.3.2 network.reachability', '1.3.2 netpol.over-permission', '7.2.2 rbac.least-privilege'].sort());
    expect(f.find((r) => r.check === 'network.reachability')?.message).toMatch(/undeclared flow allowed on 53\/(UDP|TCP).*ledger\/ledger-db → kube-system\/kube-dns/);
    expect(f.find((r) => r.check === 'rbac.least-privilege')?.message).toMatch(/watch configmaps\/shop-web-settings/);
  });

  it('run again on the set, keeps the declarations it now has instead of redrafting them', async () => {
    const r = await cli(['init', '--manifests', set, '--out', join(set, 'spec')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Drafted 0 declaration\(s\)[\s\S]*Kept \(the set already declares them\):\n\s+ScopeDeclaration scope \(spec\/scope\.yaml\)/);
  });
});

describe('pci-harness init on other inputs, and its errors', () => {
  it('a Kustomize overlay: drafts go outside the overlay and check reads them with --spec', async () => {
    const overlay = join(REPO, 'suites', 'offline', 'fixtures', 'byo', 'kustomize', 'overlays', 'prod');
    const out = join(mkdtempSync(join(tmpdir(), 'pci-init-k-')), 'spec');
    const r = await cli(['init', '--manifests', overlay, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`--spec ${out.replace(/[/.]/g, '\\$&')}`));
    const f = await failures(overlay, { spec: out });
    expect(f.some((x) => x.check === 'spec.reviewed' && x.file?.endsWith('spec/flows.yaml'))).toBe(true);
    // The declarations are decidable now: no "add manifests/spec/..." failure is left.
    expect(f.filter((x) => /add manifests\/spec/.test(x.message))).toEqual([]);
    // A second init must not overwrite what a person may have reviewed since.
    const again = await cli(['init', '--manifests', overlay, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already has scope\.yaml, flows\.yaml, access\.yaml, audit-expectations\.yaml\n\s+hint: .*--force/);
  });

  it('no namespace labelled in scope: exit 2 telling the user to label or pass --scope-namespaces', async () => {
    const r = await cli(['init', '--manifests', join(REPO, 'suites', 'offline', 'fixtures', 'byo', 'helm', 'shop'), '--namespace', 'shop', '--values', join(REPO, 'suites', 'offline', 'fixtures', 'byo', 'helm', 'shop', 'values-no-scope.yaml'), '--out', mkdtempSync(join(tmpdir(), 'pci-init-h-'))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Namespace in the set carries the scope label pci-scope=in-scope\n\s+hint: .*--scope-namespaces/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});

describe('spec.reviewed', () => {
  const doc = (annotations: string) =>
    `apiVersion: pci-harness.dev/v1alpha1\nkind: FlowTable\nmetadata:\n  name: f\n${annotations}spec:\n  flows: []\n`;
  const run = (text: string) => specReviewAnalyzer.run(setFromTexts({ 'flows.yaml': text }), {}) as CheckResult[];

  it('passes only "reviewed"; a draft, no annotation or another value fails at the line to change', () => {
    expect(run(doc('  annotations:\n    pci-harness.dev/review: reviewed\n'))[0]).toMatchObject({ status: 'pass', requirement: '12.5.2', line: 6 });
    expect(run(doc('  annotations:\n    pci-harness.dev/review: draft\n'))[0]).toMatchObject({ status: 'fail', line: 6, message: expect.stringMatching(/is a draft/) });
    expect(run(doc(''))[0]).toMatchObject({ status: 'fail', message: expect.stringMatching(/no pci-harness.dev\/review annotation/) });
    expect(run(doc('  annotations:\n    pci-harness.dev/review: Reviewed\n'))[0]).toMatchObject({ status: 'fail', message: expect.stringMatching(/unknown value "Reviewed"/) });
  });
});
