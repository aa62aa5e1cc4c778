/**
 * Placing the Kyverno behaviour fixtures on a set that is not the shipped one.
 *
 * The fixtures (suites/offline/fixtures/kyverno/resources) live in the
 * shipped namespaces (cde-frontend, cde-processing, cde-storage in the CDE;
 * ingress outside it) and run the shipped registry's image. On a user's set
 * the policies would never select them, so a fixture whose namespace the set
 * does not define is moved:
 *   - a shipped CDE namespace → one of the set's in-scope namespaces (sorted,
 *     round robin); none in scope is an error the user must fix;
 *   - any other namespace → the first out-of-scope namespace the set defines
 *     (Kyverno's own and kube-* excluded), else `default`;
 *   - an object whose Kind/namespace/name then collides with one of the set's
 *     or another fixture's is renamed;
 *   - when the set never runs an image from the shipped registry, the shipped
 *     image becomes one the set itself runs (in the target namespace when it
 *     runs one there), so the allowed-registry rule is tested against the
 *     user's registry; the foreign image stays one the set does not allow.
 * A set that defines every fixture namespace (the shipped one) is left as is.
 */
import type { K8sObject, ManifestSet } from '../../manifests/types.ts';
import { containersOf, inScopeNamespaces, namespaceObjects, podTemplates, scopeDeclaration } from '../workloads.ts';
import { fixtureId, type Fixture } from './fixtures.ts';
import { isKyvernoPolicy } from './policy.ts';

export const SHIPPED_CDE_NAMESPACES: readonly string[] = ['cde-frontend', 'cde-processing', 'cde-storage'];
/** The registry the fixtures' compliant image comes from (manifests/cluster/30-kyverno-cde-pod-security.yaml require-cde-image-registry). */
export const SHIPPED_REGISTRY = 'registry.pci.internal:5000/pci/';
/** Foreign images, in order of preference: the first one the set does not allow is used. `.invalid` is never a real host (RFC 2606). */
export const FOREIGN_IMAGES: readonly string[] = ['docker.io/library/nginx:latest', 'untrusted.registry.invalid/foreign/app:0.0.1'];
/** Namespaces Kyverno skips by default (resourceFilters) or that a boundary rule excludes by name: never a placement target. */
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'kyverno']);
const SHIPPED_SCOPE_LABEL: Record<string, string> = { 'pci-scope': 'in-scope' };

/** How a fixture was placed, for messages ("placed in namespace X (from Y)"). */
export interface PlacementNote {
  /** Namespace it now lives in, and the shipped one it came from (absent for cluster-scoped fixtures). */
  namespace?: string;
  from?: string;
  /** Original metadata.name when it had to be renamed. */
  renamedFrom?: string;
  /** Image substitution, when one happened. */
  image?: { from: string; to: string };
}

/** A fixture with its placement (set only when the set under test is not the shipped one). */
export type PlacedFixture = Fixture & { placement?: PlacementNote };

/** What placement needs to know about the set (see placementInputOf). */
export interface PlacementInput {
  /** Names of the Namespace objects the set defines. */
  definedNamespaces: string[];
  /** In-scope namespaces (ScopeDeclaration), sorted. */
  inScope: string[];
  /** Images the set runs, per namespace. */
  imagesByNamespace: Map<string, string[]>;
  /** Every string in the set's Kyverno rules, split on `|`: an over-approximation of the allowed image patterns. */
  policyPatterns: string[];
  /** Kind/namespace/name of every object of the set (placed fixtures must not collide with them). */
  setIds: Set<string>;
  /** The set's scope label (ScopeDeclaration spec.scopeLabel), for the Namespace fixtures. */
  scopeLabel?: Record<string, string>;
}

export type PlacementOutcome =
  | { placed: false; fixtures: PlacedFixture[] }
  /** namespaces: the mapping applied, shipped namespace → the set's (a target the set does not define reaches the CLI with no labels: out of scope). */
  | { placed: true; fixtures: PlacedFixture[]; namespaces: Array<{ name: string; from: string }> }
  | { error: string };

export function placementInputOf(set: ManifestSet): PlacementInput {
  const imagesByNamespace = new Map<string, string[]>();
  for (const t of podTemplates(set)) {
    for (const c of containersOf(t)) {
      if (typeof c.c.image !== 'string') continue;
      const list = imagesByNamespace.get(t.namespace) ?? [];
      if (!list.includes(c.c.image)) list.push(c.c.image);
      imagesByNamespace.set(t.namespace, list);
    }
  }
  const policyPatterns: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') policyPatterns.push(...v.split('|').map((s) => s.trim()).filter(Boolean));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const p of set.objects.filter(isKyvernoPolicy)) walk((p.object.spec as { rules?: unknown } | undefined)?.rules);
  return {
    definedNamespaces: [...namespaceObjects(set).keys()],
    inScope: inScopeNamespaces(set),
    imagesByNamespace,
    policyPatterns,
    setIds: new Set(set.objects.map((o) => fixtureId(o.object))),
    scopeLabel: scopeDeclaration(set)?.spec.scopeLabel,
  };
}

/** Kyverno wildcard match (`*` any run, `?` one character), as its pattern images use. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}

/** The first foreign image neither run by the set nor matched by any string of its policies. */
export function foreignImage(input: PlacementInput): string {
  const run = new Set([...input.imagesByNamespace.values()].flat());
  const allowed = (img: string) => run.has(img) || input.policyPatterns.some((p) => !p.startsWith('!') && wildcardMatch(p, img));
  // If the set allows every candidate (e.g. image: "*"), the first is kept: the deny case then fails, rightly.
  return FOREIGN_IMAGES.find((img) => !allowed(img)) ?? FOREIGN_IMAGES[0]!;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** Rewrite every container image of a fixture with `to(image)`; returns the first substitution made. */
function rewriteImages(o: K8sObject, to: (image: string) => string): { from: string; to: string } | undefined {
  const path = POD_SPEC_PATHS[o.kind];
  if (!path) return undefined;
  let spec: unknown = o;
  for (const k of path) spec = (spec as Record<string, unknown> | undefined)?.[k];
  let first: { from: string; to: string } | undefined;
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    const cs = (spec as Record<string, unknown> | undefined)?.[list];
    if (!Array.isArray(cs)) continue;
    for (const c of cs as Array<Record<string, unknown>>) {
      if (typeof c?.image !== 'string') continue;
      const next = to(c.image);
      if (next !== c.image) {
        first ??= { from: c.image, to: next };
        c.image = next;
      }
    }
  }
  return first;
}

/** Place the fixtures on the set (see the file comment). Pure: the fixtures passed in are not modified. */
export function placeFixtures(fixtures: Fixture[], input: PlacementInput): PlacementOutcome {
  const defined = new Set(input.definedNamespaces);
  const missing = [...new Set(fixtures.map((f) => f.object.metadata.namespace).filter((ns): ns is string => !!ns && !defined.has(ns)))].sort();
  if (missing.length === 0) return { placed: false, fixtures };

  const inScope = new Set(input.inScope);
  const missingCde = missing.filter((ns) => SHIPPED_CDE_NAMESPACES.includes(ns));
  // Prefer in-scope namespaces the set defines: only those carry labels for the policies' namespaceSelector.
  const targets = input.inScope.filter((ns) => defined.has(ns));
  const cdeTargets = targets.length ? targets : input.inScope;
  if (missingCde.length && cdeTargets.length === 0) {
    return {
      error:
        `the set declares no in-scope namespace (no ScopeDeclaration names one), so the Kyverno behaviour fixtures of the shipped CDE namespaces (${missingCde.join(', ')}, which this set does not define) cannot be placed in its CDE and the policies are not tested: ` +
        'declare the CDE: label its Namespace objects pci-scope: in-scope and run `pci-harness init --manifests <set> --out <set>/spec` (drafts spec/scope.yaml, a ScopeDeclaration; ' +
        '`--scope-namespaces a,b` when the namespaces carry no label), or write a ScopeDeclaration listing them under spec.namespaces',
    };
  }
  const outsideCandidates = input.definedNamespaces.filter((ns) => !inScope.has(ns) && !SYSTEM_NAMESPACES.has(ns)).sort();
  const outside = outsideCandidates[0] ?? (inScope.has('default') ? 'pci-harness-outside' : 'default');
  const target = new Map<string, string>();
  missingCde.forEach((ns, i) => target.set(ns, cdeTargets[i % cdeTargets.length]!));
  for (const ns of missing) if (!target.has(ns)) target.set(ns, outside);

  const usesShippedRegistry = [...input.imagesByNamespace.values()].flat().some((img) => img.startsWith(SHIPPED_REGISTRY));
  const inScopeImages = input.inScope.flatMap((ns) => [...(input.imagesByNamespace.get(ns) ?? [])].sort());
  const anyImages = [...input.imagesByNamespace.values()].flat().sort();
  const setImageFor = (ns: string) => [...(input.imagesByNamespace.get(ns) ?? [])].sort()[0] ?? inScopeImages[0] ?? anyImages[0];
  const foreign = foreignImage(input);

  const used = new Set(input.setIds);
  const out: PlacedFixture[] = [];
  for (const f of fixtures) {
    const object = clone(f.object);
    const from = f.object.metadata.namespace;
    const ns = object.metadata.namespace;
    if (ns && target.has(ns)) object.metadata.namespace = target.get(ns)!;
    // A Namespace fixture that should be in scope carries the set's scope label (the policies select on it).
    if (object.kind === 'Namespace' && f.expect === 'generate' && input.scopeLabel && Object.keys(input.scopeLabel).length) {
      const labels = { ...(object.metadata.labels ?? {}) };
      for (const k of Object.keys(SHIPPED_SCOPE_LABEL)) delete labels[k];
      object.metadata.labels = { ...labels, ...input.scopeLabel };
    }
    let image: PlacementNote['image'];
    if (!usesShippedRegistry || f.expect === 'deny') {
      image = rewriteImages(object, (img) => {
        if (img.startsWith(SHIPPED_REGISTRY)) return usesShippedRegistry ? img : (setImageFor(object.metadata.namespace ?? '') ?? img);
        // The foreign image of a deny case must stay foreign to this set.
        return f.expect === 'deny' ? foreign : img;
      });
    }
    let renamedFrom: string | undefined;
    const base = object.metadata.name;
    for (let n = 1; used.has(fixtureId(object)); n++) {
      object.metadata.name = n === 1 ? `${base}-fixture` : `${base}-fixture-${n}`;
      renamedFrom = base;
    }
    used.add(fixtureId(object));
    const where = from ? { namespace: object.metadata.namespace!, from } : {};
    out.push({ ...f, object, placement: { ...where, ...(renamedFrom ? { renamedFrom } : {}), ...(image ? { image } : {}) } });
  }
  const namespaces = [...target].map(([fromNs, name]) => ({ name, from: fromNs }));
  return { placed: true, fixtures: out, namespaces };
}

/** "placed in namespace X (from Y)[, renamed from N][, image A → B]" for messages; empty for an unplaced fixture. */
export function placementText(f: PlacedFixture): string {
  const p = f.placement;
  if (!p) return '';
  const parts: string[] = [];
  if (p.namespace) parts.push(p.namespace === p.from ? `kept in namespace ${p.namespace}` : `placed in namespace ${p.namespace} (from ${p.from})`);
  if (p.renamedFrom) parts.push(`renamed from ${p.renamedFrom}`);
  if (p.image) parts.push(`image ${p.image.from} → ${p.image.to}`);
  return parts.join(', ');
}
