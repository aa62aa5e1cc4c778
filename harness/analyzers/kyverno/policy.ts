/** Reading Kyverno policies out of the loaded set, with enough position data to point at a rule. */
import type { LoadedObject } from '../../manifests/types.ts';

export type Rule = Record<string, unknown> & { name?: unknown };

export function isKyvernoPolicy(o: LoadedObject): boolean {
  return o.object.apiVersion === 'kyverno.io/v1' && (o.object.kind === 'ClusterPolicy' || o.object.kind === 'Policy');
}

export function rulesOf(o: LoadedObject): Array<{ rule: Rule; index: number }> {
  const rules = (o.object.spec as { rules?: unknown } | undefined)?.rules;
  if (!Array.isArray(rules)) return [];
  return rules.map((rule: Rule, index) => ({ rule: rule ?? {}, index }));
}

/** Where a rule lives: the policy object and the rule's index, for file:line. */
export interface RuleSite {
  policy: LoadedObject;
  index: number;
  rule: Rule;
}

/** policy name → rule name → site. Kyverno reports results by policy and rule name. */
export function ruleIndex(objects: LoadedObject[]): Map<string, Map<string, RuleSite>> {
  const out = new Map<string, Map<string, RuleSite>>();
  for (const o of objects.filter(isKyvernoPolicy)) {
    const key = policyKey(o);
    const byName = new Map<string, RuleSite>();
    for (const { rule, index } of rulesOf(o)) byName.set(String(rule.name), { policy: o, index, rule });
    out.set(key, byName);
  }
  return out;
}

/** Kyverno names a namespaced Policy `namespace/name` in reports, a ClusterPolicy just `name`. */
export function policyKey(o: LoadedObject): string {
  return o.object.kind === 'Policy' && o.object.metadata.namespace ? `${o.object.metadata.namespace}/${o.object.metadata.name}` : o.object.metadata.name;
}

/** All sites of rules with this name across the set (rule names are only unique within a policy). */
export function sitesNamed(index: Map<string, Map<string, RuleSite>>, ruleName: string): RuleSite[] {
  return [...index.values()].flatMap((m) => (m.has(ruleName) ? [m.get(ruleName)!] : []));
}

/** Line of a rule's `name:` (what a person looks for), or of the rule item. */
export function ruleLine(site: RuleSite): number {
  return site.policy.lineOf(['spec', 'rules', site.index, 'name']);
}

/**
 * A boundary rule guards the CDE from outside: it matches pods everywhere
 * EXCEPT the pci-scope namespaces (its exclude block selects the scope label),
 * e.g. "no pod outside the CDE may tolerate the CDE node taint". Such a rule
 * rightly evaluates out-of-scope resources; it must still never deny one that
 * does nothing to reach the CDE.
 */
export function isBoundaryRule(rule: Rule, scopeLabel: Record<string, string> = { 'pci-scope': 'in-scope' }): boolean {
  const exclude = rule.exclude as { any?: unknown[]; all?: unknown[] } | undefined;
  const filters = [...(Array.isArray(exclude?.any) ? exclude.any : []), ...(Array.isArray(exclude?.all) ? exclude.all : [])];
  return filters.some((f) => {
    const labels = (f as { resources?: { namespaceSelector?: { matchLabels?: Record<string, string> } } })?.resources?.namespaceSelector?.matchLabels ?? {};
    return Object.entries(scopeLabel).every(([k, v]) => labels[k] === v);
  });
}
