import { matchesSelector, type LabelSelector } from '../../k8s/label-selector.ts';
import type { PolicyRule } from './types.ts';

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Read a role's `rules` as upstream would decode them (absent lists are empty). */
export function readRules(value: unknown): PolicyRule[] {
  if (!Array.isArray(value)) return [];
  return value.map((r) => {
    const o = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    return {
      verbs: strings(o.verbs),
      apiGroups: strings(o.apiGroups),
      resources: strings(o.resources),
      resourceNames: strings(o.resourceNames),
      nonResourceURLs: strings(o.nonResourceURLs),
    };
  });
}

/** metav1.LabelSelector semantics (shared with the network analyzer); a non-object selects nothing. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  return typeof selector === 'object' && selector !== null && matchesSelector(selector as LabelSelector, labels);
}
