import { describe, expect, it } from 'vitest';
import {
  SPEC_API_VERSION,
  SPEC_KINDS,
  type AccessTableSpec,
  type AuditExpectationsSpec,
  type ControlMapSpec,
  type FlowTableSpec,
  type ScopeDeclarationSpec,
  type SpecKind,
} from './types.ts';
import { specIssues } from './schemas.ts';

// Every optional field of every spec type, typed against harness/spec/types.ts:
// if the types change, this stops compiling, and the schema must follow.
const examples: { [K in SpecKind]: unknown } = {
  FlowTable: {
    flows: [{ from: { namespace: 'a', workload: 'b' }, to: { namespace: 'c', workload: 'd' }, port: 8443, protocol: 'TCP', requirement: '1.3.1', why: 'x' }],
  } satisfies FlowTableSpec,
  AccessTable: {
    subjects: [
      {
        subject: { kind: 'ServiceAccount', name: 'sa', namespace: 'a' },
        allow: [{ namespace: 'a', apiGroup: '', resource: 'configmaps', resourceNames: ['c'], verbs: ['get'] }],
      },
      { subject: { kind: 'Group', name: 'g' }, allow: [] },
    ],
  } satisfies AccessTableSpec,
  AuditExpectations: {
    cases: [
      {
        name: 'n',
        requirement: '10.2.1.4',
        request: { user: 'u', groups: ['g'], verb: 'get', apiGroup: '', resource: 'pods', subresource: 'exec', namespace: 'a', name: 'p', nonResourceURL: '/x' },
        expectLevel: 'Request',
        expectStages: ['ResponseComplete'],
      },
    ],
  } satisfies AuditExpectationsSpec,
  ControlMap: { requirements: [{ id: '1.3.1', title: 't', objects: ['NetworkPolicy/a/b'], checks: ['network.reachability'] }] } satisfies ControlMapSpec,
  ScopeDeclaration: {
    scopeLabel: { 'pci-scope': 'in-scope' },
    namespaces: ['a'],
    podSecurityVersion: 'v1.34',
    cdeNodes: { label: { 'pci-scope': 'in-scope' }, taint: { key: 'k', value: 'v', effect: 'NoExecute' } },
  } satisfies ScopeDeclarationSpec,
};

const doc = (kind: SpecKind, spec: unknown) => ({ apiVersion: SPEC_API_VERSION, kind, metadata: { name: 'x' }, spec });

describe('spec schemas', () => {
  it.each(SPEC_KINDS)('%s: a document using every field of the TypeScript type is valid', (kind) => {
    expect(specIssues(doc(kind, examples[kind]))).toEqual([]);
  });

  it.each(SPEC_KINDS)('%s: an unknown field is rejected', (kind) => {
    const spec = { ...(examples[kind] as object), extra: true };
    expect(specIssues(doc(kind, spec))).toEqual([{ path: ['spec', 'extra'], message: 'unknown field "extra"' }]);
  });

  it('rejects a requirement that is not a bare number', () => {
    const ft = structuredClone(examples.FlowTable) as FlowTableSpec;
    ft.flows[0]!.requirement = 'Req 1.3.1';
    expect(specIssues(doc('FlowTable', ft))).toEqual([{ path: ['spec', 'flows', 0, 'requirement'], message: expect.stringMatching(/must match pattern/) }]);
  });
});
