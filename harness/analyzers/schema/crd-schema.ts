/**
 * Kyverno ClusterPolicy / Policy (kyverno.io/v1) validated against the
 * openAPIV3Schema of Kyverno's published CRDs, vendored by
 * scripts/gen-kyverno-schemas.ts (see kyverno-crds/PROVENANCE.md).
 *
 * The apiserver treats a CRD schema as a *structural* schema: fields not in
 * `properties` are unknown (pruned, and rejected under strict field
 * validation, the kubectl default) unless the node says
 * `x-kubernetes-preserve-unknown-fields: true`
 * (k8s.io/apiextensions-apiserver pkg/apiserver/schema/pruning). ajv knows
 * none of that, so the schema is rewritten once: `additionalProperties: false`
 * on every object node that lists properties and does not preserve unknown
 * fields; `x-kubernetes-int-or-string` becomes integer-or-string.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { fromAjvErrors, type SchemaIssue } from '../../k8s/schema-issue.ts';

type Schema = Record<string, unknown>;

/** The Kyverno module the vendored CRD schemas come from (kyverno-crds/PROVENANCE.md). */
export const KYVERNO_CRD_VERSION = 'v1.16.3';

export function toAjvSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toAjvSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    // `properties` maps field names to schemas: recurse into each schema, never treat names as keywords.
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([n, s]) => [n, toAjvSchema(s)])) : toAjvSchema(v);
  }
  if (out['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.properties && out['x-kubernetes-preserve-unknown-fields'] !== true && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

// The apiserver validates metadata of custom resources as ObjectMeta, not by
// the CRD schema (which only says `type: object`); builtin.ts does ObjectMeta for
// built-in kinds. Here metadata stays `type: object` as upstream publishes it.
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();

const CRD_FILES: Record<string, string> = {
  'kyverno.io/v1/ClusterPolicy': 'clusterpolicy.v1.json',
  'kyverno.io/v1/Policy': 'policy.v1.json',
};

export function isCrdKind(apiVersion: string, kind: string): boolean {
  return `${apiVersion}/${kind}` in CRD_FILES;
}

function validator(apiVersion: string, kind: string): ValidateFunction | undefined {
  const key = `${apiVersion}/${kind}`;
  const file = CRD_FILES[key];
  if (!file) return undefined;
  let v = compiled.get(key);
  if (!v) {
    const raw = JSON.parse(readFileSync(new URL(`./kyverno-crds/${file}`, import.meta.url), 'utf8')) as unknown;
    v = ajv.compile(toAjvSchema(raw) as Schema);
    compiled.set(key, v);
  }
  return v;
}

export function crdIssues(obj: { apiVersion: string; kind: string }): SchemaIssue[] {
  const v = validator(obj.apiVersion, obj.kind);
  if (!v || v(obj)) return [];
  return fromAjvErrors(v.errors ?? [], obj);
}
