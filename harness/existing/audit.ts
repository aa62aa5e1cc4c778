import { AuditLogReader, type AuditEvent } from '../scenario/audit-log.ts';
import type { LiveResult } from '../scenario/result.ts';
import { redactCredentials } from '../evidence/bundle.ts';

/**
 * Audit assertions, only where the API server's log is readable from here
 * (PCI_HARNESS_AUDIT_LOG_DIR: the directory its files are
 * written to, e.g. a kind control-plane's mount). A managed control plane
 * keeps its log to itself: then this is NOT TESTED (coverage.ts says why).
 * What is asserted: the run's own writes are in the log with the identity
 * that made them — its namespace's creation, and one server dry-run into a
 * CDE namespace (dry runs are audited like real requests).
 */
export const SCENARIO = 'existing.audit';

export function openAudit(dir: string | undefined): AuditLogReader | { unreadable: string } {
  if (!dir) return { unreadable: 'no audit log directory given (set PCI_HARNESS_AUDIT_LOG_DIR=DIR to the directory of the API server audit files, if this machine can read it): the log is on the control plane' };
  try {
    return new AuditLogReader(dir, true);
  } catch (e) {
    return { unreadable: (e as Error).message };
  }
}

function result(ok: boolean, action: string, e: AuditEvent | undefined, why: string): LiveResult {
  const evidence = e ? redactCredentials(JSON.stringify({ verb: e.verb, requestURI: e.requestURI, user: e.user?.username, level: e.level, code: e.responseStatus?.code, stage: e.stage })) : why;
  return {
    lane: 'live',
    check: 'live.audit.events',
    requirement: '10.2.1',
    status: ok ? 'pass' : 'fail',
    scenario: SCENARIO,
    adversary: 'the harness itself (its own writes on a cluster it did not create)',
    action,
    predicted: 'logged',
    observed: ok ? 'logged' : 'not-logged',
    layer: { kind: 'audit', names: ['the cluster\'s audit policy'] },
    message: `${action}: ${ok ? `logged at ${e!.level} for user ${e!.user?.username ?? '?'}` : `NOT in the audit log — ${why}`}`,
    evidence,
    replay: 'grep the API server\'s audit log for the requestURI above',
    ...(ok ? {} : { finding: `10.2.1: ${action} is not in the audit log` }),
  };
}

export async function auditOwnWrites(reader: AuditLogReader, namespace: string, dryRunNamespace: string | undefined): Promise<LiveResult[]> {
  const nsCreate = (e: AuditEvent) => e.verb === 'create' && e.objectRef?.resource === 'namespaces' && e.objectRef?.name === namespace && e.stage === 'ResponseComplete';
  const dry = (e: AuditEvent) => e.verb === 'create' && e.objectRef?.namespace === dryRunNamespace && /[?&]dryRun=All/.test(e.requestURI) && e.stage === 'ResponseComplete';
  const [a, b] = await reader.findAll([nsCreate, ...(dryRunNamespace ? [dry] : [])], 30_000);
  const out = [result(a !== undefined, `create namespace ${namespace}`, a, 'no ResponseComplete event for it within 30 s')];
  if (dryRunNamespace) out.push(result(b !== undefined, `a server dry-run create in ${dryRunNamespace}`, b, 'no ResponseComplete event with dryRun=All within 30 s'));
  return out;
}
