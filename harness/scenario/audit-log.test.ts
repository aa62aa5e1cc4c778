import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { actingUser, auditLogContains, AuditLogReader } from './audit-log.ts';

const ev = (verb: string, extra: Record<string, unknown> = {}) => JSON.stringify({ level: 'Metadata', verb, requestURI: `/x/${verb}`, stage: 'ResponseComplete', ...extra });
let dir = '';
const fresh = () => (dir = mkdtempSync(join(tmpdir(), 'audit-log-test-')));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('AuditLogReader', () => {
  it('reads only what was appended after it was created, whole lines only: a torn last line waits for the next poll', () => {
    fresh();
    writeFileSync(join(dir, 'audit.log'), `${ev('old')}\n`);
    const r = new AuditLogReader(dir);
    appendFileSync(join(dir, 'audit.log'), `${ev('get')}\n${ev('list').slice(0, 20)}`);
    expect(r.poll().map((e) => e.verb)).toEqual(['get']);
    appendFileSync(join(dir, 'audit.log'), `${ev('list').slice(20)}\n`);
    expect(r.poll().map((e) => e.verb)).toEqual(['get', 'list']);
  });

  it('a complete line that is not JSON is a broken instrument (throws with the file)', () => {
    fresh();
    writeFileSync(join(dir, 'audit.log'), '');
    const r = new AuditLogReader(dir);
    appendFileSync(join(dir, 'audit.log'), `{nope\n${ev('get')}\n`);
    expect(() => r.poll()).toThrow(/audit\.log: line 1/);
  });

  it('a file that shrank (rotated) is read again from the start; a rotated backup is read too', () => {
    fresh();
    writeFileSync(join(dir, 'audit.log'), `${ev('a')}\n${ev('b')}\n`);
    const r = new AuditLogReader(dir);
    writeFileSync(join(dir, 'audit.log'), `${ev('c')}\n`);
    writeFileSync(join(dir, 'audit-2026-12-01T09-00-00.000.log'), `${ev('d')}\n`);
    expect(r.poll().map((e) => e.verb).sort()).toEqual(['c', 'd']);
  });

  it('find polls until a match, undefined after the timeout; the acting user is the impersonated one', async () => {
    fresh();
    writeFileSync(join(dir, 'audit.log'), '');
    const r = new AuditLogReader(dir);
    setTimeout(() => appendFileSync(join(dir, 'audit.log'), `${ev('get', { user: { username: 'admin' }, impersonatedUser: { username: 'alice', groups: ['g'] } })}\n`), 200);
    const e = await r.find((x) => x.verb === 'get', 5000);
    expect(actingUser(e!)).toEqual({ username: 'alice', groups: ['g'] });
    expect(await r.find((x) => x.verb === 'never', 100)).toBeUndefined();
  });

  it('a missing dir is an error; auditLogContains says whether, never what', () => {
    expect(() => new AuditLogReader('/nonexistent-audit-dir')).toThrow(/no audit log dir/);
    fresh();
    writeFileSync(join(dir, 'audit.log'), `${ev('get', { note: 'c2VjcmV0' })}\n`);
    const s = auditLogContains(dir, ['secret', 'c2VjcmV0']);
    expect(s.found).toEqual([false, true]);
    expect(s.files).toBe(1);
  });
});
