/**
 * kyverno.verify-coverage (6.3.2): every image a CDE workload can run is
 * signature-verified.
 *
 * Static, over the set (no CLI, no registry):
 * 1. every container image (containers, initContainers, ephemeralContainers)
 *    of every workload in an in-scope namespace is matched by the
 *    `imageReferences` of a verifyImages rule that applies to Pods in that
 *    namespace, and by none of its `skipImageReferences`;
 * 2. the allowed-registry rule (a validate `pattern` on the containers'
 *    `image`, e.g. require-cde-image-registry) and the verified references are
 *    the SAME set, per namespace and container list: a registry the rule
 *    admits but no verifyImages rule checks lets unsigned images run; a
 *    reference verified but never admitted is stale. A container list the
 *    registry rule does not constrain admits any image ("*").
 *
 * Matching follows Kyverno 1.16: imageReferences are wildcards (`*` any run
 * of characters, `?` one) over the image reference with the default registry
 * added (docker.io), a validate pattern's `a | b` are alternatives over the
 * image as written. Whether Kyverno can reach the registry to fetch a
 * signature is the live lane's question (see ../shared/reference/image-signing.md).
 */
import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject, ManifestSet } from '../../manifests/types.ts';
import { containersOf, inScopeNamespaces, namespaceObjects, podTemplates, type ContainerKind, CONTAINER_KINDS } from '../workloads.ts';
import { isKyvernoPolicy, rulesOf, type Rule } from './policy.ts';

const CHECK = 'kyverno.verify-coverage';
const REQ = '6.3.2';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

// ---- wildcards ----

function wildcardRe(p: string): RegExp {
  return new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}
export function wildcardMatch(pattern: string, s: string): boolean {
  return wildcardRe(pattern).test(s);
}
const literalPrefix = (p: string) => p.split(/[*?]/)[0] ?? '';
const hasWildcard = (p: string) => /[*?]/.test(p);

/** Does every string matching `inner` also match `outer`? Exact for literals and `prefix*` outers; otherwise only when equal. */
export function wildcardCovers(outer: string, inner: string): boolean {
  if (outer === inner || outer === '*') return true;
  if (!hasWildcard(inner)) return wildcardMatch(outer, inner);
  const prefix = outer.slice(0, -1);
  if (outer.endsWith('*') && !hasWildcard(prefix)) return literalPrefix(inner).startsWith(prefix);
  return false;
}
/** Could one string match both? (literal prefixes compatible) */
function wildcardOverlap(a: string, b: string): boolean {
  if (!hasWildcard(a)) return wildcardMatch(b, a);
  if (!hasWildcard(b)) return wildcardMatch(a, b);
  const pa = literalPrefix(a);
  const pb = literalPrefix(b);
  return pa.startsWith(pb) || pb.startsWith(pa);
}

/** The image as written and as Kyverno names it (default registry docker.io, tag latest). */
export function imageForms(image: string): string[] {
  const first = image.split('/')[0] ?? '';
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let n = hasRegistry ? image : `docker.io/${image.includes('/') ? image : `library/${image}`}`;
  const last = n.split('/').pop() ?? '';
  if (!last.includes(':') && !n.includes('@')) n = `${n}:latest`;
  return [...new Set([image, n, hasRegistry ? image : `docker.io/${image}`])];
}

// ---- which rules apply to Pods in a namespace ----

function selectorMatches(sel: unknown, labels: Record<string, string>): boolean {
  if (!isObj(sel)) return true;
  for (const [k, v] of Object.entries(isObj(sel.matchLabels) ? sel.matchLabels : {})) if (labels[k] !== String(v)) return false;
  for (const e of Array.isArray(sel.matchExpressions) ? sel.matchExpressions : []) {
    if (!isObj(e)) continue;
    const key = String(e.key ?? '');
    const values = strings(e.values);
    const has = key in labels;
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[key]!)) return false; break;
      case 'NotIn': if (has && values.includes(labels[key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

const POD_KINDS = new Set(['Pod', 'v1/Pod', '*/Pod', '*']);
function blockApplies(block: unknown, ns: string, labels: Record<string, string>): boolean {
  const r = isObj(block) && isObj(block.resources) ? block.resources : undefined;
  if (!r) return false;
  if (!strings(r.kinds).some((k) => POD_KINDS.has(k))) return false;
  const nss = strings(r.namespaces);
  if (nss.length > 0 && !nss.some((p) => wildcardMatch(p, ns))) return false;
  return selectorMatches(r.namespaceSelector, labels);
}
function blocksOf(m: unknown): { any: unknown[]; all: unknown[] } {
  if (!isObj(m)) return { any: [], all: [] };
  const any = Array.isArray(m.any) ? m.any : [];
  const all = Array.isArray(m.all) ? m.all : [];
  return { any: isObj(m.resources) ? [...any, { resources: m.resources }] : any, all };
}
export function ruleAppliesToPodsIn(rule: Rule, ns: string, labels: Record<string, string>): boolean {
  const m = blocksOf(rule.match);
  const matched = (m.any.length > 0 && m.any.some((b) => blockApplies(b, ns, labels))) || (m.all.length > 0 && m.all.every((b) => blockApplies(b, ns, labels)));
  if (!matched) return false;
  const x = blocksOf(rule.exclude);
  const excluded = x.any.some((b) => blockApplies(b, ns, labels)) || (x.all.length > 0 && x.all.every((b) => blockApplies(b, ns, labels)));
  return !excluded;
}

// ---- the two sides ----

interface VerifyEntry {
  policy: LoadedObject;
  ruleIndex: number;
  ruleName: string;
  entry: number;
  refs: string[];
  skips: string[];
  rule: Rule;
}

function verifyEntries(policies: LoadedObject[]): VerifyEntry[] {
  const out: VerifyEntry[] = [];
  for (const p of policies) {
    for (const { rule, index } of rulesOf(p)) {
      if (!Array.isArray(rule.verifyImages)) continue;
      rule.verifyImages.forEach((v: unknown, j: number) => {
        if (!isObj(v)) return;
        const refs = [...strings(v.imageReferences), ...(typeof v.image === 'string' ? [v.image] : [])];
        out.push({ policy: p, ruleIndex: index, ruleName: String(rule.name), entry: j, refs, skips: strings(v.skipImageReferences), rule });
      });
    }
  }
  return out;
}

interface RegistryRule {
  policy: LoadedObject;
  ruleIndex: number;
  ruleName: string;
  rule: Rule;
  /** container list → allowed image patterns and the pattern's path */
  allowed: Map<ContainerKind, { patterns: string[]; path: (string | number)[] }>;
}

const unanchor = (k: string) => k.replace(/^[=+^X]\((.*)\)$/, '$1');

/** Validate rules whose pattern constrains `image` in the Pod's container lists. */
function registryRules(policies: LoadedObject[]): RegistryRule[] {
  const out: RegistryRule[] = [];
  for (const p of policies) {
    for (const { rule, index } of rulesOf(p)) {
      const validate = rule.validate;
      if (!isObj(validate) || !isObj(validate.pattern) || !isObj(validate.pattern.spec)) continue;
      const spec = validate.pattern.spec;
      const allowed = new Map<ContainerKind, { patterns: string[]; path: (string | number)[] }>();
      for (const [key, list] of Object.entries(spec)) {
        const kind = unanchor(key) as ContainerKind;
        if (!CONTAINER_KINDS.includes(kind) || !Array.isArray(list)) continue;
        list.forEach((c, i) => {
          if (isObj(c) && typeof c.image === 'string') {
            allowed.set(kind, { patterns: c.image.split('|').map((s) => s.trim()).filter(Boolean), path: ['spec', 'rules', index, 'validate', 'pattern', 'spec', key, i, 'image'] });
          }
        });
      }
      if (allowed.size > 0) out.push({ policy: p, ruleIndex: index, ruleName: String(rule.name), rule, allowed });
    }
  }
  return out;
}

const site = (e: { policy: LoadedObject; ruleName: string }) => `${e.policy.object.metadata.name}/${e.ruleName}`;

export function verifyCoverageResults(set: ManifestSet): CheckResult[] {
  const policies = set.objects.filter(isKyvernoPolicy);
  const inScope = inScopeNamespaces(set);
  if (inScope.length === 0 || policies.length === 0) return [];
  const nsObjs = namespaceObjects(set);
  const labelsOf = (ns: string) => (nsObjs.get(ns)?.object.metadata.labels ?? {}) as Record<string, string>;
  const verifies = verifyEntries(policies);
  const registries = registryRules(policies);
  const out: CheckResult[] = [];
  const anchor = (verifies[0] ?? registries[0])?.policy ?? policies[0]!;

  const verifiesIn = (ns: string) => verifies.filter((v) => ruleAppliesToPodsIn(v.rule, ns, labelsOf(ns)));
  const registriesIn = (ns: string) => registries.filter((r) => ruleAppliesToPodsIn(r.rule, ns, labelsOf(ns)));
  const covered = (forms: string[], vs: VerifyEntry[]) => vs.find((v) => v.refs.some((r) => forms.some((f) => wildcardMatch(r, f))) && !v.skips.some((s) => forms.some((f) => wildcardMatch(s, f))));

  // 1. the images the workloads run
  let images = 0;
  for (const t of podTemplates(set).filter((x) => inScope.includes(x.namespace))) {
    const vs = verifiesIn(t.namespace);
    for (const c of containersOf(t)) {
      const image = typeof c.c.image === 'string' ? c.c.image : '';
      if (!image) continue;
      images++;
      if (covered(imageForms(image), vs)) continue;
      const refs = [...new Set(vs.flatMap((v) => v.refs))];
      out.push(at(t.owner, {
        check: CHECK,
        requirement: REQ,
        status: 'fail',
        message: `${t.kind} ${t.namespace}/${t.name} ${c.kind}[${c.index}] ${c.name} runs ${image}, which no verifyImages rule for Pods in ${t.namespace} verifies (${vs.length ? `imageReferences ${refs.join(', ')}${vs.some((v) => v.skips.length) ? `, skipImageReferences ${vs.flatMap((v) => v.skips).join(', ')}` : ''} miss it` : 'no verifyImages rule applies to the namespace'}): an unsigned build of it would run in the CDE. Add its registry to imageReferences, or move the image to the verified registry`,
      }, [...c.path, 'image']));
    }
  }

  // 2. allowed registries == verified references, per namespace and container list
  type Gap = { namespaces: string[]; at: LoadedObject; path?: (string | number)[]; message: (nss: string) => string };
  const gaps = new Map<string, Gap>();
  const gap = (key: string, ns: string, g: Omit<Gap, 'namespaces'>) => {
    const e = gaps.get(key);
    if (e) e.namespaces.push(ns);
    else gaps.set(key, { ...g, namespaces: [ns] });
  };
  for (const ns of inScope) {
    const vs = verifiesIn(ns);
    const rs = registriesIn(ns);
    const verified = [...new Set(vs.flatMap((v) => v.refs))];
    const skipped = [...new Set(vs.flatMap((v) => v.skips))];
    if (vs.length === 0) {
      gap('no-verify', ns, { at: rs[0]?.policy ?? anchor, message: (nss) => `no verifyImages rule applies to Pods in ${nss}: no image signature is checked there. Add a verifyImages rule matching the CDE namespaces (failureAction: Enforce)` });
      continue;
    }
    const allowedAll: string[] = [];
    for (const kind of CONTAINER_KINDS) {
      // every registry rule must pass, so an image is admitted when each rule constraining this list admits it
      const constraining = rs.filter((r) => r.allowed.has(kind));
      const patterns = constraining.length === 0 ? ['*'] : constraining[0]!.allowed.get(kind)!.patterns.filter((p) => constraining.every((r) => r.allowed.get(kind)!.patterns.some((q) => wildcardCovers(q, p) || wildcardCovers(p, q))));
      allowedAll.push(...patterns);
      for (const p of patterns) {
        const ok = verified.some((v) => wildcardCovers(v, p)) && !skipped.some((s) => wildcardOverlap(s, p));
        if (ok) continue;
        const r = constraining[0];
        gap(`allowed:${kind}:${p}`, ns, {
          at: r?.policy ?? vs[0]!.policy,
          path: r ? r.allowed.get(kind)!.path : ['spec', 'rules', vs[0]!.ruleIndex, 'verifyImages', vs[0]!.entry, 'imageReferences'],
          message: (nss) =>
            r
              ? `rule ${site(r)} admits ${kind} images "${p}" in ${nss}, but the verifyImages references (${verified.join(', ')}${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}) do not cover it: unsigned images from there run in the CDE. The registry allowed and the references verified must be the same set`
              : `nothing restricts the registry of ${kind} in ${nss} (no allowed-registry pattern on ${kind}[].image), and verifyImages covers only ${verified.join(', ')}: any image can run there unverified. Constrain ${kind} to the verified registries`,
        });
      }
    }
    for (const v of vs) {
      for (const ref of v.refs) {
        if (allowedAll.some((p) => wildcardCovers(p, ref) || wildcardCovers(ref, p))) continue;
        const i = v.refs.indexOf(ref);
        gap(`verified:${site(v)}:${ref}`, ns, {
          at: v.policy,
          path: ['spec', 'rules', v.ruleIndex, 'verifyImages', v.entry, 'imageReferences', i],
          message: (nss) => `rule ${site(v)} verifies "${ref}" in ${nss}, which the allowed-registry rule${rs.length ? ` (${rs.map(site).join(', ')})` : ''} never admits: the two lists disagree (a renamed registry?). Keep one set of registries in both`,
        });
      }
    }
  }
  for (const g of gaps.values()) out.push(at(g.at, { check: CHECK, requirement: REQ, status: 'fail', message: g.message(g.namespaces.join(', ')) }, g.path));

  if (out.length === 0) {
    const refs = [...new Set(verifies.flatMap((v) => v.refs))];
    out.push(at(anchor, {
      check: CHECK,
      requirement: REQ,
      status: 'pass',
      message: `all ${images} image(s) of the CDE workloads are signature-verified (${verifies.map(site).join(', ')}: ${refs.join(', ')}) and the allowed-registry rule${registries.length > 1 ? 's admit' : ' admits'} exactly the verified references in ${inScope.join(', ')}`,
    }));
  }
  return out;
}
