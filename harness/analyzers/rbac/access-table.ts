import type { AccessTableSpec } from '../../spec/types.ts';
import { ruleAllows } from './match.ts';
import type { Grant, PolicyRule, Subject } from './types.ts';

export type DeclaredAllow = AccessTableSpec['subjects'][number]['allow'][number];

/** One elementary permission a rule grants: a verb on a group/resource (or URL), optionally one name. */
export interface Atom {
  verb: string;
  apiGroup: string;
  resource: string;
  /** undefined = any name */
  name?: string;
  nonResourceURL?: string;
}

/** Expand a rule literally (wildcards stay `*`: they can only be covered by a declared `*`). */
export function atoms(rule: PolicyRule): Atom[] {
  const out: Atom[] = [];
  for (const verb of rule.verbs) {
    for (const url of rule.nonResourceURLs) out.push({ verb, apiGroup: '', resource: '', nonResourceURL: url });
    for (const apiGroup of rule.apiGroups) {
      for (const resource of rule.resources) {
        if (rule.resourceNames.length === 0) out.push({ verb, apiGroup, resource });
        else for (const name of rule.resourceNames) out.push({ verb, apiGroup, resource, name });
      }
    }
  }
  return out;
}

export function atomLabel(a: Atom): string {
  if (a.nonResourceURL !== undefined) return `${a.verb} ${a.nonResourceURL}`;
  const gr = a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`;
  return `${a.verb} ${gr}${a.name !== undefined ? `/${a.name}` : ''}`;
}

/** Is a granted atom (in scope; null = cluster-wide) within what the table declares? Literal comparison. */
export function declaredCovers(allow: DeclaredAllow[], scope: string | null, a: Atom): boolean {
  if (a.nonResourceURL !== undefined) return false; // the AccessTable has no way to declare URLs: any is extra
  return allow.some(
    (d) =>
      (d.namespace ?? null) === scope &&
      d.apiGroup === a.apiGroup &&
      d.resource === a.resource &&
      d.verbs.includes(a.verb) &&
      (d.resourceNames === undefined || d.resourceNames.length === 0 || (a.name !== undefined && d.resourceNames.includes(a.name))),
  );
}

/** Declared permissions no grant provides (the positive control: a missing binding fails too). */
export function missingDeclared(allow: DeclaredAllow[], grants: Grant[]): string[] {
  const out: string[] = [];
  for (const d of allow) {
    const scope = d.namespace ?? null;
    const names: Array<string | undefined> = d.resourceNames && d.resourceNames.length > 0 ? d.resourceNames : [undefined];
    for (const verb of d.verbs) {
      for (const name of names) {
        const req = { verb, apiGroup: d.apiGroup, resource: d.resource, name };
        const ok = grants.some((g) => (g.scope === null || g.scope === scope) && (scope !== null || g.scope === null) && ruleAllows(g.rule, req));
        if (!ok) out.push(`${atomLabel({ verb, apiGroup: d.apiGroup, resource: d.resource, name })} in ${scope === null ? 'cluster scope' : `namespace ${scope}`}`);
      }
    }
  }
  return out;
}

export function sameSubject(a: Subject, b: { kind: string; name: string; namespace?: string }): boolean {
  return a.kind === b.kind && a.name === b.name && (a.kind !== 'ServiceAccount' || a.namespace === b.namespace);
}
