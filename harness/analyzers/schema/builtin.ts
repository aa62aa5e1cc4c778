/**
 * Built-in Kubernetes kinds, validated against the upstream OpenAPI schema.
 *
 * Types and required fields: the `kubernetes-models` npm package, whose
 * validators are ajv code generated from the upstream Kubernetes OpenAPI
 * spec (github.com/tommy351/kubernetes-models-ts, first-party/kubernetes-models).
 * Those validators do not reject unknown fields (the OpenAPI spec carries no
 * `additionalProperties: false`), but the apiserver does: kubectl's default
 * is `--validate=strict` (server-side field validation, GA in 1.27). Unknown
 * fields are found with the field lists of `@kubernetes/client-node`, also
 * generated from the upstream OpenAPI spec (openapi-generator attributeTypeMap).
 */
import * as clientNode from '@kubernetes/client-node';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { fromAjvErrors, type AjvLikeError, type SchemaIssue } from '../../k8s/schema-issue.ts';

interface ModelClass {
  new (data: object): { validate(): void };
}

/** apiVersion → kind → kubernetes-models class. Mirrors harness/manifests/kinds.ts. */
const MODELS: Record<string, Record<string, ModelClass>> = {
  v1: pick(core, ['Namespace', 'ServiceAccount', 'ConfigMap', 'Secret', 'Service', 'Pod', 'PersistentVolumeClaim', 'LimitRange', 'ResourceQuota']),
  'apps/v1': pick(apps, ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']),
  'batch/v1': pick(batch, ['Job', 'CronJob']),
  'networking.k8s.io/v1': pick(networking, ['NetworkPolicy', 'Ingress', 'IngressClass']),
  'rbac.authorization.k8s.io/v1': pick(rbac, ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']),
  'policy/v1': pick(policy, ['PodDisruptionBudget']),
};

function pick(mod: object, kinds: string[]): Record<string, ModelClass> {
  const out: Record<string, ModelClass> = {};
  for (const k of kinds) {
    const cls = (mod as Record<string, unknown>)[k];
    if (typeof cls !== 'function') throw new Error(`kubernetes-models has no ${k}`);
    out[k] = cls as ModelClass;
  }
  return out;
}

export function isBuiltinKind(apiVersion: string, kind: string): boolean {
  return MODELS[apiVersion]?.[kind] !== undefined;
}

/** Upstream type + required-field validation. */
function modelIssues(apiVersion: string, kind: string, obj: object): SchemaIssue[] {
  const Model = MODELS[apiVersion]?.[kind];
  if (!Model) return [];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: AjvLikeError[] }).errors;
    if (!Array.isArray(errors)) throw e;
    return fromAjvErrors(errors, obj);
  }
}

interface Attr {
  baseName: string;
  type: string;
}
type AttrClass = { getAttributeTypeMap(): Attr[] };

/** client-node's generated class name for a top-level kind: V1NetworkPolicy. All mapped kinds are v1. */
function modelTypeName(kind: string): string {
  return `V1${kind}`;
}

const LEAF = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);

/** Walk obj along client-node's field lists; report every key the upstream type does not have. */
function unknownFieldIssues(obj: unknown, type: string, path: (string | number)[], out: SchemaIssue[]): void {
  if (obj === null || obj === undefined || LEAF.has(type)) return;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (Array.isArray(obj)) obj.forEach((x, i) => unknownFieldIssues(x, arr[1]!, [...path, i], out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof obj === 'object') for (const [k, v] of Object.entries(obj)) unknownFieldIssues(v, map[1]!, [...path, k], out);
    return;
  }
  const cls = (clientNode as unknown as Record<string, AttrClass | undefined>)[type];
  if (!cls || typeof cls.getAttributeTypeMap !== 'function' || typeof obj !== 'object' || Array.isArray(obj)) return;
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(obj)) {
    const t = attrs.get(k);
    if (t === undefined) out.push({ path: [...path, k], message: `unknown field "${k}"` });
    else unknownFieldIssues(v, t, [...path, k], out);
  }
}

/** Every schema issue of a built-in kind's object, types first, then unknown fields. */
export function builtinIssues(obj: { apiVersion: string; kind: string }): SchemaIssue[] {
  const issues = modelIssues(obj.apiVersion, obj.kind, obj);
  unknownFieldIssues(obj, modelTypeName(obj.kind), [], issues);
  return issues;
}
