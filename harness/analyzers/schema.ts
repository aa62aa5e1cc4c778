/**
 * schema.valid (PCI DSS v4.0 2.2.1, configuration standards): every object in
 * the set is valid against a real published schema, so what the analyzers
 * reason about is what the apiserver will accept.
 *
 * - Built-in kinds: upstream Kubernetes OpenAPI (schema/builtin.ts).
 * - Kyverno ClusterPolicy/Policy: Kyverno's published CRD schema (schema/crd-schema.ts).
 * - pci-harness.dev kinds: the harness's own schemas (schema/spec-schemas.ts).
 * - kind Cluster (kind.x-k8s.io/v1alpha4), EncryptionConfiguration
 *   (apiserver.config.k8s.io/v1) and audit Policy (audit.k8s.io/v1) have no
 *   published JSON schema (they are Go types decoded by their component).
 *   They are left to their area analyzers (encryption, node-pool; the audit
 *   analyzer decodes strictly), and reported here as skipped, not passed.
 */
import { at, type Analyzer, type CheckResult } from '../check/types.ts';
import type { LoadedObject } from '../manifests/types.ts';
import { SPEC_API_VERSION } from '../spec/types.ts';
import { builtinIssues, isBuiltinKind } from './schema/builtin.ts';
import { crdIssues, isCrdKind, KYVERNO_CRD_VERSION } from './schema/crd-schema.ts';
import { dottedPath, type SchemaIssue } from '../k8s/schema-issue.ts';
import { specIssues } from '../spec/schemas.ts';

const CHECK = 'schema.valid';
const REQUIREMENT = '2.2.1';

/** Which schema covers an object, or why none does. */
interface Covered {
  source: string;
  /** What to do about a violation. */
  fix: string;
  issues: () => SchemaIssue[];
}

// kubectl's default --validate=strict makes the apiserver reject unknown fields and bad types alike.
const APPLY_FIX = 'fix the field: `kubectl apply` (strict field validation) rejects the object as written';

function schemaFor(o: LoadedObject): Covered | { none: string } {
  const { apiVersion, kind } = o.object;
  if (isBuiltinKind(apiVersion, kind)) return { source: 'upstream Kubernetes OpenAPI', fix: APPLY_FIX, issues: () => builtinIssues(o.object) };
  if (isCrdKind(apiVersion, kind)) return { source: `Kyverno ${KYVERNO_CRD_VERSION} CRD openAPIV3Schema`, fix: APPLY_FIX, issues: () => crdIssues(o.object) };
  if (apiVersion === SPEC_API_VERSION) {
    return { source: 'pci-harness spec schema', fix: 'fix the field to match harness/spec/types.ts: the analyzers would misread this declaration', issues: () => specIssues(o.object) };
  }
  return { none: `${apiVersion} ${kind} has no published JSON schema; its area analyzer decodes and checks it` };
}

function analyze(o: LoadedObject): CheckResult[] {
  const s = schemaFor(o);
  if ('none' in s) return [at(o, { check: CHECK, requirement: REQUIREMENT, status: 'skip', message: s.none })];
  const issues = s.issues();
  if (issues.length === 0) {
    return [at(o, { check: CHECK, requirement: REQUIREMENT, status: 'pass', message: `valid against the ${s.source}` })];
  }
  return issues.map((i) =>
    at(
      o,
      {
        check: CHECK,
        requirement: REQUIREMENT,
        status: 'fail',
        message: `${dottedPath(i.path)}: ${i.message} (${s.source}); ${s.fix}`,
      },
      i.path,
    ),
  );
}

export const schemaAnalyzer: Analyzer = {
  area: 'schema',
  title: 'Objects are valid against published schemas',
  run(set) {
    return set.objects.flatMap(analyze);
  },
};
