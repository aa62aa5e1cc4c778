/**
 * JSON schemas for the harness's own declaration kinds (pci-harness.dev/v1alpha1),
 * written to match harness/spec/types.ts field for field. Unknown fields are
 * errors: a misspelt `expectLevel` must not silently drop an expectation.
 * spec-schemas.test.ts checks these against the TypeScript types by example.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { SPEC_API_VERSION, type SpecKind } from './types.ts';
import { fromAjvErrors, type SchemaIssue } from '../k8s/schema-issue.ts';

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string', minLength: 1 };
const strList: Schema = { type: 'array', items: str };
const requirement: Schema = { type: 'string', pattern: '^\\d+(\\.\\d+)*$' };
const labels: Schema = { type: 'object', additionalProperties: { type: 'string' }, minProperties: 1 };
const obj = (properties: Record<string, Schema>, required: string[]): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const workloadRef = obj({ namespace: str, workload: str }, ['namespace', 'workload']);

const SPEC_SCHEMAS: Record<SpecKind, Schema> = {
  FlowTable: obj(
    {
      flows: {
        type: 'array',
        items: obj(
          {
            from: workloadRef,
            to: workloadRef,
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            protocol: { enum: ['TCP', 'UDP', 'SCTP'] },
            requirement,
            why: { type: 'string' },
          },
          ['from', 'to', 'port', 'requirement'],
        ),
      },
    },
    ['flows'],
  ),
  AccessTable: obj(
    {
      subjects: {
        type: 'array',
        items: obj(
          {
            subject: obj({ kind: { enum: ['ServiceAccount', 'User', 'Group'] }, name: str, namespace: str }, ['kind', 'name']),
            allow: {
              type: 'array',
              items: obj(
                { namespace: str, apiGroup: { type: 'string' }, resource: str, resourceNames: strList, verbs: { ...strList, minItems: 1 } },
                ['apiGroup', 'resource', 'verbs'],
              ),
            },
          },
          ['subject', 'allow'],
        ),
      },
    },
    ['subjects'],
  ),
  AuditExpectations: obj(
    {
      cases: {
        type: 'array',
        items: obj(
          {
            name: str,
            requirement,
            request: obj(
              {
                user: str,
                groups: strList,
                verb: str,
                apiGroup: { type: 'string' },
                resource: str,
                subresource: str,
                namespace: str,
                name: str,
                nonResourceURL: str,
              },
              ['verb'],
            ),
            expectLevel: { enum: ['None', 'Metadata', 'Request', 'RequestResponse'] },
            expectStages: strList,
          },
          ['name', 'requirement', 'request', 'expectLevel'],
        ),
      },
    },
    ['cases'],
  ),
  ControlMap: obj(
    {
      requirements: {
        type: 'array',
        items: obj({ id: requirement, title: str, objects: strList, checks: strList, notTested: str }, ['id', 'title', 'objects', 'checks']),
      },
    },
    ['requirements'],
  ),
  ScopeDeclaration: obj(
    {
      scopeLabel: labels,
      namespaces: { ...strList, minItems: 1 },
      podSecurityVersion: { type: 'string', pattern: '^(latest|v\\d+\\.\\d+)$' },
      cdeNodes: obj(
        {
          label: labels,
          taint: obj({ key: str, value: { type: 'string' }, effect: { enum: ['NoSchedule', 'NoExecute'] } }, ['key', 'value', 'effect']),
        },
        ['label', 'taint'],
      ),
      clusterNetwork: obj({ podCIDRs: { ...strList, minItems: 1 }, serviceCIDRs: { ...strList, minItems: 1 } }, []),
    },
    ['scopeLabel', 'namespaces', 'podSecurityVersion', 'cdeNodes'],
  ),
};

/** The whole document: apiVersion, kind, metadata.name, spec. */
function documentSchema(kind: SpecKind): Schema {
  return obj(
    {
      apiVersion: { const: SPEC_API_VERSION },
      kind: { const: kind },
      metadata: { type: 'object', properties: { name: str }, required: ['name'] },
      spec: SPEC_SCHEMAS[kind],
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  );
}

const ajv = new Ajv({ allErrors: true, strict: true });
const compiled = new Map<string, ValidateFunction>();

export function specIssues(o: { kind: string }): SchemaIssue[] {
  const kind = o.kind as SpecKind;
  if (!(kind in SPEC_SCHEMAS)) return [];
  let v = compiled.get(kind);
  if (!v) {
    v = ajv.compile(documentSchema(kind));
    compiled.set(kind, v);
  }
  return v(o) ? [] : fromAjvErrors(v.errors ?? [], o);
}
