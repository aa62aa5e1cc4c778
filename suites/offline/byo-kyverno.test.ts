import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runKyverno } from '../../harness/analyzers/kyverno.ts';
import { loadFixtures } from '../../harness/analyzers/kyverno/fixtures.ts';
import { FOREIGN_IMAGES } from '../../harness/analyzers/kyverno/placement.ts';
import type { CheckResult } from '../../harness/check/types.ts';
import { loadManifests } from '../../harness/manifests/sources.ts';
import { writeTwoTierSet } from './fixtures/byo/two-tier.ts';
import { deleteRule, RENAMED_POD_POLICY, RENAMED_RULES, TWO_TIER_KYVERNO, writeTwoTierVariant, type VariantOptions } from './fixtures/byo/two-tier-variants.ts';
import { cli, SHIPPED } from './cli.ts';

/**
 * The Kyverno lane (real Kyverno CLI) on a user's set: the two-tier set
 * (namespaces storefront, ledger; fixtures/byo/two-tier.ts) and variants of
 * it whose policies carry the user's own names and registry. The behaviour
 * fixtures are placed on the set's namespaces (harness/analyzers/kyverno/
 * placement.ts); every one must keep its verdict, and a weakened policy must
 * turn the check red naming the requirement.
 */
const PRIVILEGED_FIXTURES = ['Pod/ledger/privileged', 'Pod/storefront/privileged-init', 'Pod/ledger/privileged-ephemeral', 'Deployment/storefront/privileged'];

let spec: string;
/** A fresh copy of a two-tier set (optionally a variant) with the reviewed declarations `init` drafted for it. */
function setDir(variant?: VariantOptions): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'pci-byo-kyv-')), 'set');
  if (variant) writeTwoTierVariant(dir, SHIPPED, variant);
  else writeTwoTierSet(dir, SHIPPED);
  cpSync(spec, join(dir, 'spec'), { recursive: true });
  return dir;
}
const kyverno = (dir: string) => runKyverno(loadManifests(dir).set, {});
const fails = (rs: CheckResult[]) => rs.filter((r) => r.status === 'fail');
const edit = (file: string, f: (t: string) => string) => {
  const before = readFileSync(file, 'utf8');
  const after = f(before);
  if (after === before) throw new Error(`edit did not apply to ${file}`);
  writeFileSync(file, after);
};
/** Namespaced fixtures: each must report where it was placed. */
const NAMESPACED = loadFixtures().filter((f) => f.object.metadata.namespace);

beforeAll(async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'pci-byo-kyv-init-')), 'set');
  writeTwoTierSet(dir, SHIPPED);
  spec = join(dir, 'spec');
  const r = await cli(['init', '--manifests', dir, '--out', spec]);
  expect(r.code, r.stderr).toBe(0);
  for (const f of readdirSync(spec)) edit(join(spec, f), (t) => t.replace('pci-harness.dev/review: draft', 'pci-harness.dev/review: reviewed'));
}, 120_000);

describe('two-tier set, the shipped policies adopted as they are', () => {
  it('every fixture keeps its verdict in the set\'s namespaces, and says where it was placed', async () => {
    const rs = await kyverno(setDir());
    expect(fails(rs)).toEqual([]);
    const passes = rs.filter((r) => r.status === 'pass').map((r) => r.message);
    // Each fixture yields exactly one pass; the set's own two workloads one each.
    const behaviour = rs.filter((r) => r.status === 'pass' && ['kyverno.policies', 'kyverno.autogen', 'kyverno.generate'].includes(r.check));
    expect(behaviour).toHaveLength(loadFixtures().length + 2);
    expect(passes.filter((m) => /\(placed in namespace (ledger|storefront|default) \(from (cde-frontend|cde-processing|cde-storage|ingress)\)/.test(m))).toHaveLength(NAMESPACED.length);
    expect(passes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^cde-pod-security-requirements\/no-privileged-containers denies Pod\/ledger\/privileged: .*\(placed in namespace ledger \(from cde-frontend\)\)$/),
        expect.stringMatching(/^cde-pod-security-requirements\/autogen-no-privileged-containers denies Deployment\/storefront\/privileged: /),
        expect.stringMatching(/^cde-pod-security-requirements\/require-cde-image-registry denies Pod\/storefront\/foreign-image: /),
        expect.stringMatching(/^cde-node-isolation\/no-cde-toleration-outside-cde denies Pod\/default\/cde-toleration: .*\(from ingress\)/),
        expect.stringMatching(/^not affected by the CDE policies: A privileged Pod .*\(placed in namespace default \(from ingress\)\)$/),
        expect.stringMatching(/^admitted by all 11 applicable rule\(s\): Restricted-compliant, volume-less Pod .*\(placed in namespace ledger/),
        expect.stringMatching(/^generates NetworkPolicy cde-new\/default-deny-all/),
      ]),
    );
  });

  it('the CDE pod-security policy switched to Audit: fails kyverno.failure-action 2.2.6 at each rule', async () => {
    const dir = setDir();
    edit(join(dir, TWO_TIER_KYVERNO.podSecurity), (t) => t.replaceAll('failureAction: Enforce', 'failureAction: Audit'));
    // kyverno.failure-action is static: the CLI run (which reports Audit denials as fails too) adds nothing here.
    const f = fails(await runKyverno(loadManifests(dir).set, { skipKyverno: true }));
    expect(f.length).toBeGreaterThanOrEqual(11);
    expect(f.every((r) => r.check === 'kyverno.failure-action' && r.file === TWO_TIER_KYVERNO.podSecurity)).toBe(true);
    expect(f.map((r) => r.requirement)).toContain('2.2.6');
    expect(f.find((r) => r.message.startsWith('rule no-privileged-containers:'))?.message).toMatch(/failureAction is "Audit"; set failureAction: Enforce/);
  });

  it('the privileged rule deleted: every privileged fixture fails 2.2.6 at the fixture, "nothing in the set denies" it, saying where it was placed', async () => {
    const dir = setDir();
    deleteRule(dir, TWO_TIER_KYVERNO.podSecurity, 'no-privileged-containers');
    const f = fails(await kyverno(dir));
    expect(f.map((r) => r.object).sort()).toEqual([...PRIVILEGED_FIXTURES].sort());
    for (const r of f) {
      expect(r.requirement).toBe('2.2.6');
      expect(r.file).toMatch(/^suites\/offline\/fixtures\/kyverno\/resources\/(pod|deploy)-deny-privileged/);
      expect(r.line).toBe(1);
      expect(r.message).toMatch(/^nothing in the set denies fixture .*placed in namespace (ledger|storefront) \(from cde-(frontend|processing|storage)\).*no rule named no-privileged-containers and no other rule fails it/);
    }
  });
});

describe('two-tier set whose CDE policy and rules carry the user\'s own names, on the user\'s own registry', () => {
  const registry = 'registry.shop.example/shop/';
  const variant = { renamed: true, registry };

  it('still passes where it enforces: each denial names the user\'s rule that did it; the compliant fixtures run the set\'s image', async () => {
    const rs = await kyverno(setDir(variant));
    expect(fails(rs)).toEqual([]);
    const passes = rs.filter((r) => r.status === 'pass').map((r) => r.message);
    expect(passes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${RENAMED_POD_POLICY}/${RENAMED_RULES['no-privileged-containers']} denies Pod/ledger/privileged \\(the fixture names no-privileged-containers, which the set does not have; placed in namespace ledger \\(from cde-frontend\\)`)),
        expect.stringMatching(new RegExp(`^${RENAMED_POD_POLICY}/autogen-${RENAMED_RULES['no-privileged-containers']} denies Deployment/storefront/privileged `)),
        // The foreign image stays foreign to the user's registry.
        expect.stringMatching(new RegExp(`^${RENAMED_POD_POLICY}/${RENAMED_RULES['require-cde-image-registry']} denies Pod/storefront/foreign-image .*\\): An image outside`)),
        // Admitted by the user's allowed-registry rule because the fixture now runs the set's own image.
        expect.stringMatching(new RegExp(`^admitted by all 11 applicable rule\\(s\\): Restricted-compliant, volume-less Pod .*image registry.pci.internal:5000/pci/server:1.0 → ${registry}server:v1\\)$`)),
        // The node-isolation policy kept its names: the named rule still decides.
        expect.stringMatching(/^cde-node-isolation\/no-cde-toleration-outside-cde denies Pod\/default\/cde-toleration: /),
      ]),
    );
  });

  it('fails where a rule is removed: the privileged fixtures (2.2.6) and the foreign image (6.3.2) are denied by nothing', async () => {
    const dir = setDir(variant);
    deleteRule(dir, TWO_TIER_KYVERNO.podSecurity, RENAMED_RULES['no-privileged-containers']!);
    deleteRule(dir, TWO_TIER_KYVERNO.podSecurity, RENAMED_RULES['require-cde-image-registry']!);
    const f = fails(await kyverno(dir)).filter((r) => r.check !== 'kyverno.verify-coverage');
    expect(f.map((r) => `${r.requirement} ${r.check} ${r.object}`).sort()).toEqual(
      [...PRIVILEGED_FIXTURES.map((o) => `2.2.6 ${o.startsWith('Deployment') ? 'kyverno.autogen' : 'kyverno.policies'} ${o}`), '6.3.2 kyverno.policies Pod/storefront/foreign-image'].sort(),
    );
    for (const r of f) {
      expect(r.file).toMatch(/^suites\/offline\/fixtures\/kyverno\/resources\//);
      expect(r.message).toMatch(/^nothing in the set denies fixture .*placed in namespace/);
    }
  });

  it('a set whose registry is Docker Hub library/*: the foreign image becomes one it does not allow, and is denied', async () => {
    const rs = await kyverno(setDir({ registry: 'docker.io/library/' }));
    expect(fails(rs)).toEqual([]);
    expect(rs.find((r) => r.object === 'ClusterPolicy/cde-pod-security-requirements' && /denies Pod\/storefront\/foreign-image/.test(r.message))?.message).toContain(
      `image docker.io/library/nginx:latest → ${FOREIGN_IMAGES[1]}`,
    );
  });
});

describe('a set with no in-scope namespace', () => {
  it('fails the behaviour checks saying the set declares none and how to declare one', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pci-byo-kyv-noscope-')), 'set');
    writeTwoTierSet(dir, SHIPPED);
    const f = fails(await kyverno(dir)).filter((r) => ['kyverno.policies', 'kyverno.autogen', 'kyverno.generate'].includes(r.check));
    expect(f.map((r) => r.check).sort()).toEqual(['kyverno.autogen', 'kyverno.generate', 'kyverno.policies']);
    for (const r of f) expect(r.message).toMatch(/^the set declares no in-scope namespace .*cde-frontend, cde-processing, cde-storage.*pci-scope: in-scope.*pci-harness init --manifests/);
  });
});
