import type { K8sObject } from '../../manifests/types.ts';
import type { AuditExpectationsSpec } from '../../spec/types.ts';

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type Level = (typeof LEVELS)[number];
export const STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;

export interface GroupResources {
  group: string;
  resources: string[];
  resourceNames: string[];
}

/** audit.k8s.io/v1 PolicyRule as the apiserver holds it after (lenient) decoding: unknown fields are gone. */
export interface AuditRule {
  level: string;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: GroupResources[];
  namespaces: string[];
  nonResourceURLs: string[];
  omitStages: string[];
}

export interface AuditPolicy {
  omitStages: string[];
  rules: AuditRule[];
}

export type AuditRequest = AuditExpectationsSpec['cases'][number]['request'];

export interface AuditDecision {
  level: Level;
  /** Stages that are still emitted (all stages minus omitStages). */
  stages: string[];
  /** Stages omitted for this request (policy-level ∪ rule-level). */
  omitStages: string[];
  /** Index of the first matching rule; -1 when none matched (level None). */
  ruleIndex: number;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Decode a Policy object the way the apiserver ends up holding it: only schema fields survive. */
export function decodeAuditPolicy(o: K8sObject | Record<string, unknown>): AuditPolicy {
  const obj = o as Record<string, unknown>;
  const rules = Array.isArray(obj.rules) ? obj.rules : [];
  return {
    omitStages: strings(obj.omitStages),
    rules: rules.map((r) => {
      const x = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
      const resources = Array.isArray(x.resources) ? x.resources : [];
      return {
        level: typeof x.level === 'string' ? x.level : '',
        users: strings(x.users),
        userGroups: strings(x.userGroups),
        verbs: strings(x.verbs),
        namespaces: strings(x.namespaces),
        nonResourceURLs: strings(x.nonResourceURLs),
        omitStages: strings(x.omitStages),
        resources: resources.map((g) => {
          const y = (typeof g === 'object' && g !== null ? g : {}) as Record<string, unknown>;
          return { group: typeof y.group === 'string' ? y.group : '', resources: strings(y.resources), resourceNames: strings(y.resourceNames) };
        }),
      };
    }),
  };
}

// ---- Matching: a transcription of k8s.io/apiserver/pkg/audit/policy/checker.go (ruleMatches,
// ruleMatchesResource, ruleMatchesNonResource, pathMatches). Verbs are compared literally,
// so `verbs: ["*"]` matches nothing; a request without a user (401) never matches a rule that
// sets users or userGroups.

function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function isResourceRequest(req: AuditRequest): boolean {
  return req.resource !== undefined && req.resource !== '';
}

function ruleMatchesResource(r: AuditRule, req: AuditRequest): boolean {
  if (!isResourceRequest(req)) return false;
  if (r.namespaces.length > 0 && !r.namespaces.includes(req.namespace ?? '')) return false; // cluster-scoped = ""
  if (r.resources.length === 0) return true;
  const resource = req.resource ?? '';
  const sub = req.subresource ?? '';
  const combined = sub !== '' ? `${resource}/${sub}` : resource;
  const name = req.name ?? '';
  for (const gr of r.resources) {
    if (gr.group !== (req.apiGroup ?? '')) continue;
    if (gr.resources.length === 0) return true;
    for (const res of gr.resources) {
      if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(name)) continue;
      if (res === combined || res === '*') return true;
      if (sub !== '' && res.startsWith('*/') && sub === res.slice(2)) return true;
      if (res.endsWith('/*') && resource === res.slice(0, -2)) return true;
    }
  }
  return false;
}

export function ruleMatches(r: AuditRule, req: AuditRequest): boolean {
  const hasUser = req.user !== undefined;
  if (r.users.length > 0 && (!hasUser || !r.users.includes(req.user ?? ''))) return false;
  if (r.userGroups.length > 0) {
    if (!hasUser) return false;
    if (!(req.groups ?? []).some((g) => r.userGroups.includes(g))) return false;
  }
  if (r.verbs.length > 0 && !r.verbs.includes(req.verb)) return false;
  if (r.namespaces.length > 0 || r.resources.length > 0) return ruleMatchesResource(r, req);
  if (r.nonResourceURLs.length > 0) {
    if (isResourceRequest(req)) return false;
    return r.nonResourceURLs.some((spec) => pathMatches(req.nonResourceURL ?? '', spec));
  }
  return true;
}

function union(...lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

/**
 * First-match evaluation (checker.go LevelAndStages): the first matching rule decides; its
 * omitStages are unioned with the policy's (NewChecker); no match = level None.
 */
export function evaluateAuditPolicy(policy: AuditPolicy | K8sObject, request: AuditRequest): AuditDecision {
  const p: AuditPolicy = 'apiVersion' in policy ? decodeAuditPolicy(policy) : (policy as AuditPolicy);
  const idx = p.rules.findIndex((r) => ruleMatches(r, request));
  const rule = p.rules[idx];
  const omit = rule ? union(p.omitStages, rule.omitStages) : [...p.omitStages];
  const level = (rule && (LEVELS as readonly string[]).includes(rule.level) ? rule.level : 'None') as Level;
  return { level, omitStages: omit, stages: STAGES.filter((s) => !omit.includes(s)), ruleIndex: rule ? idx : -1 };
}

export function levelRank(l: string): number {
  return (LEVELS as readonly string[]).indexOf(l);
}

export function describeRequest(req: AuditRequest): string {
  const who = req.user === undefined ? 'unauthenticated (no user)' : `user ${req.user}${req.groups?.length ? ` [${req.groups.join(', ')}]` : ''}`;
  if (!isResourceRequest(req)) return `${who} ${req.verb} ${req.nonResourceURL ?? ''}`;
  const gr = `${req.resource}${req.subresource ? `/${req.subresource}` : ''}${req.apiGroup ? `.${req.apiGroup}` : ''}`;
  return `${who} ${req.verb} ${gr}${req.name ? ` ${req.name}` : ''}${req.namespace ? ` in ${req.namespace}` : ' (cluster scope)'}`;
}
