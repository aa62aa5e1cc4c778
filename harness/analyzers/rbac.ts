import type { Analyzer, CheckResult } from '../check/types.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { effectivePermissions } from './rbac/effective.ts';
import { leastPrivilege } from './rbac/least-privilege.ts';
import { noClusterAdmin, noSecrets, noWildcards } from './rbac/privilege-checks.ts';
import { tokenAutomount } from './rbac/workload-identity.ts';

export { effectivePermissions } from './rbac/effective.ts';
export type { EffectivePermissions, Grant, Subject, SubjectPermissions } from './rbac/types.ts';

/**
 * RBAC, offline: resolve every binding to its role (set, aggregation, built-in bootstrap roles),
 * compute each subject's effective permissions, and compare them with the AccessTable.
 */
export const rbacAnalyzer: Analyzer = {
  area: 'rbac',
  title: 'RBAC least privilege and workload identity',
  run(set: ManifestSet): CheckResult[] {
    const eff = effectivePermissions(set);
    return [...leastPrivilege(set, eff), ...noWildcards(eff), ...noSecrets(set, eff), ...noClusterAdmin(set, eff), ...tokenAutomount(set)];
  },
};
