import { LEVELS, STAGES } from './policy.ts';

/** A decoding or validation problem at a path inside the Policy document. */
export interface PolicyIssue {
  path: (string | number)[];
  message: string;
  /** true: the apiserver drops the field and logs "falling back to lenient decoding"; false: it refuses the policy. */
  lenient: boolean;
  /**
   * Which upstream code refuses it: `validation` (pkg/apis/audit/validation ValidatePolicy), `decode`
   * (the decoder: a field of the wrong type, an unknown field), `reader` (pkg/audit/policy/reader.go,
   * which refuses a policy with 0 rules that ValidatePolicy itself accepts).
   */
  origin: 'validation' | 'decode' | 'reader';
}

// audit.k8s.io/v1 field names (k8s.io/apiserver/pkg/apis/audit/v1/types.go).
const POLICY_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'rules', 'omitStages', 'omitManagedFields']);
const RULE_FIELDS = new Set(['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages', 'omitManagedFields']);
const GROUP_RESOURCE_FIELDS = new Set(['group', 'resources', 'resourceNames']);
const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownFields(v: Record<string, unknown>, known: Set<string>, path: (string | number)[], where: string, out: PolicyIssue[]) {
  for (const k of Object.keys(v)) {
    if (!known.has(k)) {
      out.push({ path: [...path, k], lenient: true, origin: 'decode', message: `unknown field "${k}" in ${where}: strict decoding fails, the apiserver logs "falling back to lenient decoding" and silently DROPS it` });
    }
  }
}

function stringList(v: unknown, path: (string | number)[], what: string, out: PolicyIssue[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    out.push({ path, lenient: false, origin: 'decode', message: `${what} must be a list of strings; the apiserver cannot decode the policy` });
    return [];
  }
  return v as string[];
}

function stages(v: unknown, path: (string | number)[], out: PolicyIssue[]) {
  stringList(v, path, 'omitStages', out).forEach((s, i) => {
    if (!(STAGES as readonly string[]).includes(s)) out.push({ path: [...path, i], lenient: false, origin: 'validation', message: `unknown stage "${s}" (allowed: ${STAGES.join(', ')})` });
  });
}

/**
 * Strict decoding plus upstream validation of an audit Policy document:
 * unknown fields (k8s.io/apiserver/pkg/audit/policy/reader.go decodes strictly, then warns and
 * falls back to lenient decoding, dropping them) and the errors of
 * k8s.io/apiserver/pkg/apis/audit/validation/validation.go (level, omitStages, nonResourceURLs,
 * resources), plus reader.go's "policy with 0 rules" refusal.
 */
export function strictPolicyIssues(doc: Record<string, unknown>): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  unknownFields(doc, POLICY_FIELDS, [], 'Policy', out);
  if (isObj(doc.metadata)) unknownFields(doc.metadata, OBJECT_META_FIELDS, ['metadata'], 'metadata', out);
  stages(doc.omitStages, ['omitStages'], out);
  if (doc.omitManagedFields !== undefined && typeof doc.omitManagedFields !== 'boolean') {
    out.push({ path: ['omitManagedFields'], lenient: false, origin: 'decode', message: 'omitManagedFields must be a boolean' });
  }
  if (!Array.isArray(doc.rules) || doc.rules.length === 0) {
    out.push({ path: ['rules'], lenient: false, origin: 'reader', message: 'the policy has no rules: the apiserver refuses to load it ("loaded illegal policy with 0 rules")' });
    return out;
  }
  doc.rules.forEach((rule, i) => {
    const p = ['rules', i];
    if (!isObj(rule)) {
      out.push({ path: p, lenient: false, origin: 'decode', message: `rule ${i} is not a mapping` });
      return;
    }
    unknownFields(rule, RULE_FIELDS, p, `rule ${i}`, out);
    const level = rule.level;
    if (level === undefined || level === '') out.push({ path: [...p, 'level'], lenient: false, origin: 'validation', message: `rule ${i} has no level (required)` });
    else if (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level)) {
      out.push({ path: [...p, 'level'], lenient: false, origin: 'validation', message: `rule ${i} level "${String(level)}" is not one of ${LEVELS.join(', ')}` });
    }
    for (const f of ['users', 'userGroups', 'verbs', 'namespaces'] as const) stringList(rule[f], [...p, f], f, out);
    stages(rule.omitStages, [...p, 'omitStages'], out);
    if (rule.omitManagedFields !== undefined && typeof rule.omitManagedFields !== 'boolean') {
      out.push({ path: [...p, 'omitManagedFields'], lenient: false, origin: 'decode', message: 'omitManagedFields must be a boolean' });
    }
    const urls = stringList(rule.nonResourceURLs, [...p, 'nonResourceURLs'], 'nonResourceURLs', out);
    urls.forEach((u, j) => {
      if (u === '*') return;
      if (!u.startsWith('/')) out.push({ path: [...p, 'nonResourceURLs', j], lenient: false, origin: 'validation', message: `non-resource URL "${u}" must begin with "/"` });
      if (u !== '' && u.slice(0, -1).includes('*')) out.push({ path: [...p, 'nonResourceURLs', j], lenient: false, origin: 'validation', message: `non-resource URL "${u}": "*" may only be the final character` });
    });
    const resources = rule.resources;
    const hasResources = Array.isArray(resources) && resources.length > 0;
    const hasNamespaces = Array.isArray(rule.namespaces) && rule.namespaces.length > 0;
    if (urls.length > 0 && (hasResources || hasNamespaces)) {
      out.push({ path: [...p, 'nonResourceURLs'], lenient: false, origin: 'validation', message: 'rules cannot apply to both regular resources and non-resource URLs' });
    }
    if (resources === undefined || resources === null) return;
    if (!Array.isArray(resources)) {
      out.push({ path: [...p, 'resources'], lenient: false, origin: 'decode', message: 'resources must be a list of {group, resources, resourceNames}' });
      return;
    }
    resources.forEach((gr, j) => {
      const gp = [...p, 'resources', j];
      if (!isObj(gr)) {
        out.push({ path: gp, lenient: false, origin: 'decode', message: 'each resources entry must be a mapping {group, resources, resourceNames}' });
        return;
      }
      unknownFields(gr, GROUP_RESOURCE_FIELDS, gp, `rule ${i} resources[${j}]`, out);
      if (gr.group !== undefined && typeof gr.group !== 'string') out.push({ path: [...gp, 'group'], lenient: false, origin: 'decode', message: 'group must be a string' });
      if (typeof gr.group === 'string' && gr.group !== '' && !DNS_SUBDOMAIN.test(gr.group)) {
        out.push({ path: [...gp, 'group'], lenient: false, origin: 'validation', message: `group "${gr.group}" is not a DNS subdomain (write the group without version, e.g. rbac.authorization.k8s.io)` });
      }
      const rs = stringList(gr.resources, [...gp, 'resources'], 'resources', out);
      const names = stringList(gr.resourceNames, [...gp, 'resourceNames'], 'resourceNames', out);
      if (names.length > 0 && rs.length === 0) out.push({ path: [...gp, 'resourceNames'], lenient: false, origin: 'validation', message: 'using resourceNames requires at least one resource' });
    });
  });
  return out;
}
