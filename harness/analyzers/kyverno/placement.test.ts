import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setFromTexts } from '../../manifests/load.ts';
import type { K8sObject } from '../../manifests/types.ts';
import { fixtureId, loadFixtures, REPO_ROOT, type Fixture } from './fixtures.ts';
import { FOREIGN_IMAGES, foreignImage, placeFixtures, placementInputOf, placementText, wildcardMatch, type PlacementInput, type PlacedFixture } from './placement.ts';

const pod = (name: string, namespace: string, image = 'registry.pci.internal:5000/pci/server:1.0', extra: Partial<Fixture> = {}): Fixture => ({
  object: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'app', image }], initContainers: [{ name: 'init', image }] } },
  file: `fixtures/${name}.yaml`,
  line: 1,
  expect: 'admit',
  requirement: '2.2.6',
  description: name,
  ...extra,
});
const ns = (name: string, expect: Fixture['expect'], labels?: Record<string, string>): Fixture => ({
  object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } },
  file: `fixtures/ns-${name}.yaml`,
  line: 1,
  expect,
  requirement: '1.3.1',
  description: name,
});
const input = (over: Partial<PlacementInput> = {}): PlacementInput => ({
  definedNamespaces: ['ledger', 'storefront'],
  inScope: ['ledger', 'storefront'],
  imagesByNamespace: new Map([
    ['storefront', ['registry.shop.example/shop/web:2']],
    ['ledger', ['registry.shop.example/shop/db:7', 'registry.shop.example/shop/backup:1']],
  ]),
  policyPatterns: ['registry.shop.example/shop/*'],
  setIds: new Set(),
  scopeLabel: { 'pci-scope': 'in-scope' },
  ...over,
});
const images = (o: K8sObject) => [...((o.spec as { containers: Array<{ image: string }> }).containers ?? []), ...((o.spec as { initContainers?: Array<{ image: string }> }).initContainers ?? [])].map((c) => c.image);
function placed(fixtures: Fixture[], inp: PlacementInput): PlacedFixture[] {
  const r = placeFixtures(fixtures, inp);
  if ('error' in r) throw new Error(r.error);
  return r.fixtures;
}

describe('placeFixtures: the shipped set is left as it is', () => {
  const shippedFiles = Object.fromEntries(
    [...readdirSync(join(REPO_ROOT, 'manifests', 'cluster')).map((f) => `cluster/${f}`), ...readdirSync(join(REPO_ROOT, 'manifests', 'spec')).map((f) => `spec/${f}`)].map((f) => [f, readFileSync(join(REPO_ROOT, 'manifests', f), 'utf8')]),
  );

  it('defines every fixture namespace, so the very same fixtures come back, unplaced', () => {
    const fixtures = loadFixtures();
    const r = placeFixtures(fixtures, placementInputOf(setFromTexts(shippedFiles)));
    expect(r).toEqual({ placed: false, fixtures });
    if (!('error' in r)) expect(r.fixtures).toBe(fixtures);
    expect(fixtures.every((f) => placementText(f) === '')).toBe(true);
  });

  it('an in-scope namespace that lost its scope label keeps its fixtures (the policies must then miss them: that is the finding)', () => {
    const files = { ...shippedFiles, 'cluster/00-namespaces.yaml': shippedFiles['cluster/00-namespaces.yaml']!.replace(/(name: cde-storage\n  labels:\n)    pci-scope: in-scope\n/, '$1') };
    expect(files['cluster/00-namespaces.yaml']).not.toBe(shippedFiles['cluster/00-namespaces.yaml']);
    expect(placeFixtures(loadFixtures(), placementInputOf(setFromTexts(files)))).toMatchObject({ placed: false });
  });
});

describe('placeFixtures on a set of its own', () => {
  it('maps the shipped CDE namespaces round robin onto the sorted in-scope ones, the outside one onto default', () => {
    const fx = [pod('a', 'cde-frontend'), pod('b', 'cde-processing'), pod('c', 'cde-storage'), pod('d', 'ingress')];
    const r = placeFixtures(fx, input());
    expect(r).toMatchObject({
      placed: true,
      namespaces: [
        { from: 'cde-frontend', name: 'ledger' },
        { from: 'cde-processing', name: 'storefront' },
        { from: 'cde-storage', name: 'ledger' },
        { from: 'ingress', name: 'default' },
      ],
    });
    const out = placed(fx, input());
    expect(out.map((f) => fixtureId(f.object))).toEqual(['Pod/ledger/a', 'Pod/storefront/b', 'Pod/ledger/c', 'Pod/default/d']);
    expect(placementText(out[0]!)).toMatch(/^placed in namespace ledger \(from cde-frontend\)/);
    // The input fixtures are not modified.
    expect(fx.map((f) => f.object.metadata.namespace)).toEqual(['cde-frontend', 'cde-processing', 'cde-storage', 'ingress']);
  });

  it('is deterministic whatever order the set lists its namespaces in', () => {
    const fx = [pod('a', 'cde-frontend'), pod('b', 'cde-processing')];
    const one = placed(fx, input());
    const two = placed(fx, input({ definedNamespaces: ['storefront', 'ledger'], inScope: ['ledger', 'storefront'] }));
    expect(two.map((f) => fixtureId(f.object))).toEqual(one.map((f) => fixtureId(f.object)));
  });

  it('puts outside cases in an out-of-scope namespace the set defines, never a kube-* or Kyverno one', () => {
    const out = placed([pod('d', 'ingress')], input({ definedNamespaces: ['kube-system', 'kyverno', 'ledger', 'web-public', 'storefront', 'batch'] }));
    expect(fixtureId(out[0]!.object)).toBe('Pod/batch/d');
  });

  it('keeps a namespace the set does define, and moves only the missing ones', () => {
    const out = placed([pod('a', 'cde-frontend'), pod('d', 'ingress')], input({ definedNamespaces: ['ledger', 'storefront', 'ingress'] }));
    expect(out.map((f) => fixtureId(f.object))).toEqual(['Pod/ledger/a', 'Pod/ingress/d']);
    expect(placementText(out[1]!)).toMatch(/^kept in namespace ingress/);
  });

  it('prefers in-scope namespaces the set defines (only those carry labels for namespaceSelector)', () => {
    const out = placed([pod('a', 'cde-frontend'), pod('b', 'cde-processing')], input({ definedNamespaces: ['storefront'], inScope: ['ledger', 'storefront'] }));
    expect(out.map((f) => f.object.metadata.namespace)).toEqual(['storefront', 'storefront']);
  });

  it('fails, saying how to declare one, when the set has no in-scope namespace', () => {
    const r = placeFixtures([pod('a', 'cde-frontend')], input({ inScope: [] }));
    expect(r).toEqual({ error: expect.stringMatching(/^the set declares no in-scope namespace.*cde-frontend.*pci-scope: in-scope.*pci-harness init --manifests.*--scope-namespaces/) });
  });

  it('needs no in-scope namespace when only outside cases are to be placed', () => {
    expect(placed([pod('d', 'ingress')], input({ inScope: [], definedNamespaces: [] })).map((f) => f.object.metadata.namespace)).toEqual(['default']);
  });

  it('renames an object that would collide with one of the set or with another placed fixture', () => {
    const fx = [pod('compliant', 'cde-frontend'), pod('compliant', 'cde-storage'), pod('web', 'cde-processing')];
    const out = placed(fx, input({ setIds: new Set(['Pod/storefront/web']) }));
    expect(out.map((f) => fixtureId(f.object))).toEqual(['Pod/ledger/compliant', 'Pod/ledger/compliant-fixture', 'Pod/storefront/web-fixture']);
    expect(out[1]!.placement?.renamedFrom).toBe('compliant');
    expect(placementText(out[2]!)).toMatch(/^placed in namespace storefront \(from cde-processing\), renamed from web, image /);
  });

  it('renames a Namespace fixture the set already defines, and gives the in-scope one the set\'s scope label', () => {
    const out = placed([pod('a', 'cde-frontend'), ns('cde-new', 'generate', { 'pci-scope': 'in-scope' }), ns('sandbox', 'not-matched')], input({ setIds: new Set(['Namespace/sandbox']), scopeLabel: { 'shop.example/pci': 'cde' } }));
    expect(out[1]!.object.metadata).toEqual({ name: 'cde-new', labels: { 'shop.example/pci': 'cde' } });
    expect(fixtureId(out[2]!.object)).toBe('Namespace/sandbox-fixture');
    expect(out[2]!.object.metadata.labels).toBeUndefined();
  });

  it('runs the set\'s own image (the target namespace\'s first, sorted) when the set never uses the shipped registry', () => {
    const out = placed([pod('a', 'cde-frontend'), pod('b', 'cde-processing'), pod('d', 'ingress')], input());
    expect(out.map((f) => images(f.object))).toEqual([
      ['registry.shop.example/shop/backup:1', 'registry.shop.example/shop/backup:1'],
      ['registry.shop.example/shop/web:2', 'registry.shop.example/shop/web:2'],
      // outside: no image of its own there, the first in-scope one
      ['registry.shop.example/shop/backup:1', 'registry.shop.example/shop/backup:1'],
    ]);
    expect(placementText(out[1]!)).toContain('image registry.pci.internal:5000/pci/server:1.0 → registry.shop.example/shop/web:2');
  });

  it('keeps the shipped image when the set itself runs the shipped registry', () => {
    const out = placed([pod('a', 'cde-frontend')], input({ imagesByNamespace: new Map([['ledger', ['registry.pci.internal:5000/pci/server:v1']]]) }));
    expect(images(out[0]!.object)).toEqual(['registry.pci.internal:5000/pci/server:1.0', 'registry.pci.internal:5000/pci/server:1.0']);
    expect(out[0]!.placement?.image).toBeUndefined();
  });

  it('keeps the foreign image of a deny case foreign: replaced when the set allows it', () => {
    const deny = pod('foreign-image', 'cde-processing', 'docker.io/library/nginx:latest', { expect: 'deny', rule: 'require-cde-image-registry' });
    expect(images(placed([deny], input())[0]!.object)).toEqual(['docker.io/library/nginx:latest', 'docker.io/library/nginx:latest']);
    const dockerHub = input({ policyPatterns: ['docker.io/library/*'], imagesByNamespace: new Map([['ledger', ['docker.io/library/postgres:16']]]) });
    const out = placed([deny], dockerHub)[0]!;
    expect(images(out.object)).toEqual([FOREIGN_IMAGES[1], FOREIGN_IMAGES[1]]);
    expect(placementText(out)).toContain(`image docker.io/library/nginx:latest → ${FOREIGN_IMAGES[1]}`);
  });
});

describe('foreignImage and wildcardMatch', () => {
  it('matches Kyverno wildcards: * any run, ? one character, everything else literal', () => {
    expect(wildcardMatch('registry.shop.example/shop/*', 'registry.shop.example/shop/web:2')).toBe(true);
    expect(wildcardMatch('registry.shop.example/shop/*', 'registry.shopXexample/shop/web:2')).toBe(false);
    expect(wildcardMatch('docker.io/library/nginx:1.2?', 'docker.io/library/nginx:1.27')).toBe(true);
    expect(wildcardMatch('*', 'anything/at:all')).toBe(true);
  });

  it('picks the first candidate neither run by the set nor matched by its policies, ignoring negated patterns', () => {
    expect(foreignImage(input({ policyPatterns: ['!docker.io/*'] }))).toBe(FOREIGN_IMAGES[0]);
    expect(foreignImage(input({ imagesByNamespace: new Map([['ledger', ['docker.io/library/nginx:latest']]]) }))).toBe(FOREIGN_IMAGES[1]);
    // A set that allows every image keeps the first: its deny case then fails, as it should.
    expect(foreignImage(input({ policyPatterns: ['*'] }))).toBe(FOREIGN_IMAGES[0]);
  });

  it('placementInputOf reads images per namespace, the policy strings, the scope and the ids from a set', () => {
    const set = setFromTexts({
      'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {pci: "yes"}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n',
      'scope.yaml': 'apiVersion: pci-harness.dev/v1alpha1\nkind: ScopeDeclaration\nmetadata: {name: scope}\nspec:\n  namespaces: [shop]\n  scopeLabel: {pci: "yes"}\n  podSecurityVersion: v1.34\n  cdeNodes: {label: {pci: "yes"}, taint: {key: pci, value: "yes", effect: NoSchedule}}\n',
      'deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: "reg.example/shop/api:1"}]\n',
      'pol.yaml': 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n    - name: r\n      validate:\n        pattern: {spec: {containers: [{image: "reg.example/shop/* | reg.example/base/*"}]}}\n',
    });
    const inp = placementInputOf(set);
    expect(inp.definedNamespaces.sort()).toEqual(['shop', 'web']);
    expect(inp.inScope).toEqual(['shop']);
    expect(inp.imagesByNamespace.get('shop')).toEqual(['reg.example/shop/api:1']);
    expect(inp.policyPatterns).toEqual(expect.arrayContaining(['reg.example/shop/*', 'reg.example/base/*', 'r']));
    expect(inp.setIds.has('Deployment/shop/api')).toBe(true);
    expect(inp.scopeLabel).toEqual({ pci: 'yes' });
  });
});
