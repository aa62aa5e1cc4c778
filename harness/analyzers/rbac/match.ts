import type { PolicyRule } from './types.ts';

/**
 * RBAC rule matching, transcribed from upstream
 * kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go (VerbMatches, APIGroupMatches,
 * ResourceMatches, ResourceNameMatches, NonResourceURLMatches):
 * `*` matches any verb/group/resource (including subresources), `*\/sub` matches any
 * resource's subresource `sub`, `pods/*` is NOT a wildcard, and a rule with resourceNames
 * only matches requests that name one of them.
 */
export interface ResourceRequest {
  verb: string;
  apiGroup: string;
  /** Resource, optionally with subresource: "pods/log". */
  resource: string;
  /** undefined = a request without a name (list, watch, create, deletecollection). */
  name?: string;
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return rule.apiGroups.some((g) => g === '*' || g === group);
}

export function resourceMatches(rule: PolicyRule, combined: string): boolean {
  const slash = combined.indexOf('/');
  const sub = slash >= 0 ? combined.slice(slash + 1) : '';
  return rule.resources.some((r) => {
    if (r === '*' || r === combined) return true;
    return sub !== '' && r === `*/${sub}`;
  });
}

export function resourceNameMatches(rule: PolicyRule, name: string | undefined): boolean {
  if (rule.resourceNames.length === 0) return true;
  return name !== undefined && rule.resourceNames.includes(name);
}

export function ruleAllows(rule: PolicyRule, req: ResourceRequest): boolean {
  return (
    verbMatches(rule, req.verb) &&
    apiGroupMatches(rule, req.apiGroup) &&
    resourceMatches(rule, req.resource) &&
    resourceNameMatches(rule, req.name)
  );
}

/** Does the rule allow the verb on the resource for SOME name (ignoring resourceNames)? */
export function ruleAllowsAnyName(rule: PolicyRule, req: Omit<ResourceRequest, 'name'>): boolean {
  return verbMatches(rule, req.verb) && apiGroupMatches(rule, req.apiGroup) && resourceMatches(rule, req.resource);
}

/** True for a rule equivalent to cluster-admin's first rule: every verb on every resource of every group. */
export function isFullWildcard(rule: PolicyRule): boolean {
  return rule.verbs.includes('*') && rule.apiGroups.includes('*') && rule.resources.includes('*') && rule.resourceNames.length === 0;
}

export function hasWildcard(rule: PolicyRule): boolean {
  return [rule.verbs, rule.apiGroups, rule.resources, rule.nonResourceURLs].some((l) => l.some((x) => x.includes('*')));
}
