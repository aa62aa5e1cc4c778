/**
 * Live network weakenings for ANY set, derived from its own NetworkPolicies
 * (the shipped set has hand-written mutants in suites/offline/mutants.ts; a
 * user's set has none). For each CDE namespace of the set:
 *   - delete its default-deny policy                       → 1.3.1
 *   - an ingress policy accepts any source (no `from`)      → 1.3.1
 *   - an egress policy reaches any destination (no `to`)    → 1.3.2
 * Which cells must flip is still the model's answer (runLiveMutant predicts
 * the weakened copy), so a weakening the matrix cannot see says so.
 */
import type { LoadedObject, ManifestSet } from '../manifests/types.ts';
import { cdeNamespaces } from '../analyzers/rbac/scope.ts';
import type { Weakening } from './live-mutants.ts';

/** Where the live dir keeps every API object of a user's set (harness/manifests/live-dir.ts). */
export const LIVE_SET_FILE = 'cluster/set.yaml';

interface Rule {
  from?: unknown[];
  to?: unknown[];
  ports?: unknown[];
}
interface NpSpec {
  podSelector?: { matchLabels?: object; matchExpressions?: unknown[] };
  policyTypes?: string[];
  ingress?: Rule[];
  egress?: Rule[];
}

// Parsed YAML documents: shapes vary per kind.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

const same = (d: Doc, o: LoadedObject) => d?.kind === 'NetworkPolicy' && d.metadata?.name === o.object.metadata.name && d.metadata?.namespace === o.object.metadata.namespace;

const selectsAll = (s: NpSpec) => Object.keys(s.podSelector?.matchLabels ?? {}).length === 0 && (s.podSelector?.matchExpressions ?? []).length === 0;

function isDefaultDeny(s: NpSpec): boolean {
  return selectsAll(s) && (s.ingress ?? []).length === 0 && (s.egress ?? []).length === 0 && (s.policyTypes ?? []).length > 0;
}

/** A rule without its peers admits every peer on its ports: the direction's opening, and the requirement it breaks. */
const OPENINGS = [
  { direction: 'ingress', peers: 'from', requirement: '1.3.1', what: 'accepts its ports from any source' },
  { direction: 'egress', peers: 'to', requirement: '1.3.2', what: 'reaches any destination on its ports' },
] as const;

function withoutKey(r: Rule, key: 'from' | 'to'): Rule {
  const { [key]: _gone, ...rest } = r;
  return rest;
}

export function setWeakenings(set: ManifestSet, file = LIVE_SET_FILE, max = 8): Weakening[] {
  const cde = cdeNamespaces(set);
  const policies = set.objects.filter((o) => o.object.kind === 'NetworkPolicy' && cde.has(o.object.metadata.namespace ?? '')).sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  const out: Weakening[] = [];
  for (const p of policies) {
    const spec = (p.object.spec ?? {}) as NpSpec;
    const where = objectKey(p);
    if (isDefaultDeny(spec)) {
      out.push({
        id: `set-delete-${slug(where)}`,
        description: `the default-deny NetworkPolicy ${where} is deleted`,
        requirement: '1.3.1',
        file,
        mutate: (docs) => docs.filter((d) => !same(d, p)),
      });
      continue;
    }
    for (const d of OPENINGS) {
      if (!(spec[d.direction] ?? []).some((r) => (r[d.peers] ?? []).length > 0)) continue;
      out.push({
        id: `set-open-${d.direction}-${slug(where)}`,
        description: `${where} ${d.what} (every ${d.direction} rule loses its ${d.peers})`,
        requirement: d.requirement,
        file,
        mutate: (docs) => docs.map((x) => (same(x, p) ? { ...x, spec: { ...x.spec, [d.direction]: x.spec[d.direction].map((r: Rule) => withoutKey(r, d.peers)) } } : x)),
      });
    }
  }
  return out.slice(0, max);
}

function objectKey(o: LoadedObject): string {
  return `${o.object.metadata.namespace}/${o.object.metadata.name}`;
}

function slug(s: string): string {
  return s.replace(/[^a-z0-9]+/g, '-').slice(0, 50);
}
