import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { redactCredentials } from '../evidence/bundle.ts';
import { parseAuditLog } from './diagnostics.ts';

/**
 * A reader of the API server's JSON-lines audit log (the host side of the
 * control-plane's audit mount, `<cluster.workDir>/audit`) for scenarios that
 * poll for their own events. It reads each file from where it last stopped
 * (the log grows by megabytes per minute on a busy cluster), keeps a torn
 * last line for the next poll (the API server may be mid-write; the shared
 * parser `parseAuditLog` says which line is torn), and treats any other
 * unparseable line as a broken instrument (throws with file:line).
 */
export interface AuditEvent {
  auditID?: string;
  stage?: string;
  level: string;
  verb: string;
  requestURI: string;
  user?: { username?: string; groups?: string[] };
  /** Set when the request impersonated someone (`kubectl --as/--as-group`): the identity RBAC judged. */
  impersonatedUser?: { username?: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string; apiGroup?: string };
  responseStatus?: { code?: number; reason?: string };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  annotations?: Record<string, string>;
}

export class AuditLogReader {
  private readonly offsets = new Map<string, number>();
  private readonly events: AuditEvent[] = [];

  readonly dir: string;

  /** `fromNow`: ignore what the files already hold (only events after construction are read). */
  constructor(dir: string, fromNow = true) {
    this.dir = dir;
    if (!dir || !existsSync(dir)) throw new Error(`no audit log dir ${dir ? `at ${dir}` : '(the cluster has no local work dir)'}`);
    if (fromNow) for (const f of this.files()) this.offsets.set(f, statSync(join(dir, f)).size);
  }

  files(): string[] {
    return readdirSync(this.dir).filter((f) => f.startsWith('audit') && f.endsWith('.log'));
  }

  /** Read what was appended since the last poll; returns every event read so far. */
  poll(): AuditEvent[] {
    for (const f of this.files()) {
      const path = join(this.dir, f);
      const size = statSync(path).size;
      let from = this.offsets.get(f) ?? 0;
      if (size < from) from = 0; // truncated or replaced: read it again
      if (size === from) continue;
      const buf = Buffer.alloc(size - from);
      const fd = openSync(path, 'r');
      try {
        readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
      const text = buf.toString('utf8');
      // Only whole lines are consumed; a torn tail stays for the next poll.
      const lastNl = text.lastIndexOf('\n');
      const whole = lastNl >= 0 ? text.slice(0, lastNl + 1) : '';
      const { events, corrupt, torn } = parseAuditLog<AuditEvent>(whole);
      if (corrupt.length) throw new Error(`audit log ${path}: line ${corrupt[0]} after byte ${from} is not JSON (${corrupt.length} bad line(s))`);
      // A last whole line that does not parse is not torn (it ended with a newline): it is corrupt.
      if (torn) throw new Error(`audit log ${path}: a complete line after byte ${from} is not JSON`);
      this.events.push(...events);
      this.offsets.set(f, from + Buffer.byteLength(whole, 'utf8'));
    }
    return this.events;
  }

  /** Poll until `match` finds an event; undefined after the timeout (audit events are flushed in batches). */
  async find(match: (e: AuditEvent) => boolean, timeoutMs = 30_000): Promise<AuditEvent | undefined> {
    return (await this.findAll([match], timeoutMs))[0];
  }

  /** Poll until every matcher found an event (or the timeout): one result per matcher, undefined when missing. */
  async findAll(matchers: ReadonlyArray<(e: AuditEvent) => boolean>, timeoutMs = 30_000): Promise<Array<AuditEvent | undefined>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = this.poll();
      const hits = matchers.map((m) => all.find(m));
      if (hits.every(Boolean) || Date.now() > deadline) return hits;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * Does any audit file (the whole of every file, rotated backups included)
 * contain one of `needles`? Returns per needle whether it was found, plus
 * how much was searched — never the matching text.
 */
export function auditLogContains(dir: string, needles: readonly string[]): { found: boolean[]; files: number; bytes: number } {
  const files = readdirSync(dir).filter((f) => f.startsWith('audit'));
  const found = needles.map(() => false);
  let bytes = 0;
  for (const f of files) {
    const buf = readFileSync(join(dir, f));
    bytes += buf.length;
    needles.forEach((n, i) => {
      if (!found[i] && buf.includes(n)) found[i] = true;
    });
  }
  return { found, files: files.length, bytes };
}

/** Who (the impersonated identity when there is one), what, where, when, level, outcome — never a body. */
export function auditExcerpt(e: AuditEvent | undefined, dir = 'the audit log'): string {
  if (!e) return `no matching event in ${dir} within the timeout`;
  const { auditID, stage, level, verb, requestURI, user, impersonatedUser, objectRef, responseStatus, requestReceivedTimestamp } = e;
  return redactCredentials(
    JSON.stringify({
      auditID,
      stage,
      level,
      verb,
      requestURI,
      user: user && { username: user.username, groups: user.groups },
      ...(impersonatedUser ? { impersonatedUser } : {}),
      objectRef,
      responseStatus: responseStatus && { code: responseStatus.code },
      requestReceivedTimestamp,
    }),
  );
}

/** The identity RBAC judged: the impersonated one when the request impersonated, else the authenticated user. */
export function actingUser(e: AuditEvent): { username?: string; groups?: string[] } {
  return e.impersonatedUser ?? e.user ?? {};
}
