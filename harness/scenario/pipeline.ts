import { decodeAuditPolicy, evaluateAuditPolicy, type AuditDecision, type AuditPolicy } from '../analyzers/audit/policy.ts';
import { effectivePermissions } from '../analyzers/rbac/effective.ts';
import { accessTables, cdeNamespaces } from '../analyzers/rbac/scope.ts';
import type { Subject } from '../analyzers/rbac/types.ts';
import type { ResourceRequest } from '../analyzers/rbac/match.ts';
import { loadManifestDir } from '../manifests/load.ts';
import { liveManifestsDir } from './context.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { predictAllows, type Identity } from './rbac-live.ts';

/**
 * The compromised CI pipeline's model: who it is (the access table's
 * deployer subject), what the offline RBAC model says it may do, and which
 * audit level the set's audit policy gives each of its requests — so a live
 * attempt has a prediction from the same sources as `rbac.least-privilege`
 * and `audit.levels`.
 */
export const DEPLOYER_GROUP = 'pci-deployers';

export interface PipelineModel {
  identity: Identity;
  cde: string[];
  /** The access-table entry exists (else the pipeline identity is not declared: nothing below proves anything). */
  declared: boolean;
  mayDo(namespace: string, req: ResourceRequest): string | undefined;
  auditLevel(req: AuditRequestOf): AuditDecision;
}

/** One API request, as the audit policy sees it. */
export interface AuditRequestOf {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** `set`: the loaded manifests when the caller has them already (one parse per file). */
export function pipelineModel(user: string, set: ManifestSet = loadManifestDir(liveManifestsDir())): PipelineModel {
  const eff = effectivePermissions(set);
  const cde = [...cdeNamespaces(set)].sort();
  const subject: Subject = { kind: 'Group', name: DEPLOYER_GROUP };
  const declared = accessTables(set).some((t) => (t.spec.subjects ?? []).some((s) => s.subject.kind === 'Group' && s.subject.name === DEPLOYER_GROUP));
  const policyDoc = set.objects.find((o) => o.object.apiVersion === 'audit.k8s.io/v1' && o.object.kind === 'Policy');
  if (!policyDoc) throw new Error('the set has no audit.k8s.io/v1 Policy (manifests/control-plane/audit-policy.yaml): the pipeline scenario predicts audit levels from it');
  const policy: AuditPolicy = decodeAuditPolicy(policyDoc.object);
  const groups = [DEPLOYER_GROUP, 'system:authenticated'];
  const identity: Identity = { subject, user, groups, args: [] };
  return {
    identity,
    cde,
    declared,
    mayDo: (namespace, req) => predictAllows(eff, identity, namespace, req),
    auditLevel: (req) => evaluateAuditPolicy(policy, { user, groups, ...req }),
  };
}
