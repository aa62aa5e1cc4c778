import type { LoadedObject } from '../../manifests/types.ts';

/** rbac.authorization.k8s.io/v1 PolicyRule, as read from YAML (missing lists = empty). */
export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

export type SubjectKind = 'ServiceAccount' | 'User' | 'Group';

/** A principal whose effective permissions we compute. ServiceAccounts always carry a namespace. */
export interface Subject {
  kind: SubjectKind;
  name: string;
  namespace?: string;
}

/** Where a rule came from: a role object in the set, or the built-in bootstrap table. */
export interface RoleSource {
  kind: 'Role' | 'ClusterRole';
  name: string;
  namespace?: string;
  /** The role object in the set; undefined for built-in ClusterRoles resolved from the bootstrap table. */
  object?: LoadedObject;
  /** Index of the rule inside `object.rules` (meaningful when object is set). */
  ruleIndex: number;
  /** The ClusterRole the rule was aggregated from, when the bound role has an aggregationRule. */
  aggregatedFrom?: string;
}

/** One rule granted to one binding subject, in one scope. */
export interface Grant {
  /** The subject as the binding names it (SA namespace already defaulted per upstream). */
  bindingSubject: Subject;
  /** Namespace the rule applies in; null = every namespace and cluster-scoped resources (ClusterRoleBinding). */
  scope: string | null;
  rule: PolicyRule;
  role: RoleSource;
  binding: LoadedObject;
}

/** A binding the analyzer cannot resolve or that is malformed: its permissions cannot be proven. */
export interface BindingProblem {
  binding: LoadedObject;
  path: (string | number)[];
  message: string;
}

export interface SubjectPermissions {
  subject: Subject;
  /** Every grant that applies to this subject (directly, or via the groups it belongs to). */
  grants: Grant[];
  /** True when the subject is a ServiceAccount object declared in the set. */
  declared: boolean;
}

export interface EffectivePermissions {
  subjects: SubjectPermissions[];
  problems: BindingProblem[];
}

export function subjectKey(s: Subject): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount:${s.namespace ?? ''}:${s.name}` : `${s.kind}:${s.name}`;
}

export function subjectLabel(s: Subject): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount ${s.namespace ?? '?'}/${s.name}` : `${s.kind} ${s.name}`;
}

export function roleLabel(r: RoleSource): string {
  const base = r.namespace ? `${r.kind} ${r.namespace}/${r.name}` : `${r.kind} ${r.name}`;
  const agg = r.aggregatedFrom ? ` (aggregated from ClusterRole ${r.aggregatedFrom})` : '';
  return `${base}${r.object ? '' : ' (built-in)'}${agg}`;
}

export function bindingLabel(b: LoadedObject): string {
  const m = b.object.metadata;
  return m.namespace ? `${b.object.kind} ${m.namespace}/${m.name}` : `${b.object.kind} ${m.name}`;
}

/** `file:line` of the rule that grants something; falls back to the binding for built-in roles. */
export function grantLocation(g: Grant): { file: string; line: number } {
  if (g.role.object) return { file: g.role.object.source.file, line: g.role.object.lineOf(['rules', g.role.ruleIndex]) };
  return { file: g.binding.source.file, line: g.binding.lineOf(['roleRef']) };
}
