import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { judgeSeries, readAuditFiles } from './audit-rotation.ts';
import type { AuditEvent } from './audit-log.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const ev = (id: string, name: string) => JSON.stringify({ auditID: id, stage: 'ResponseComplete', level: 'RequestResponse', verb: 'create', requestURI: '/x', objectRef: { resource: 'roles', name } });
/** audit.log plus rotated files, mtimes in order (oldest first). */
function logDir(files: Record<string, string[]>, tail = ''): string {
  const d = mkdtempSync(join(tmpdir(), 'pci-audit-rot-'));
  dirs.push(d);
  Object.entries(files).forEach(([f, lines], i) => {
    writeFileSync(join(d, f), lines.map((l) => `${l}\n`).join('') + (f === 'audit.log' ? tail : ''));
    utimesSync(join(d, f), 1000 + i, 1000 + i);
  });
  return d;
}
const markerOf = (e: AuditEvent) => (e.objectRef?.resource === 'roles' ? e.objectRef.name : undefined);

describe('judgeSeries over a rotated audit log', () => {
  it('passes when every event is in exactly one file and the series spans two rotated files', () => {
    const d = logDir({ 'audit-2026-12-01T10-00-00.000.log': [ev('1', 'r1')], 'audit-2026-12-01T10-00-05.000.log': [ev('2', 'r2')], 'audit.log': [ev('3', 'r3')] }, '{"auditID":"4","sta');
    const files = readAuditFiles(d);
    expect(files.map((f) => f.file)).toEqual(['audit-2026-12-01T10-00-00.000.log', 'audit-2026-12-01T10-00-05.000.log', 'audit.log']);
    expect(files[2]!.torn).toBe(true);
    const v = judgeSeries(files, ['r1', 'r2', 'r3'], markerOf);
    expect(v.ok, v.summary).toBe(true);
    expect(v.rotatedWithSeries).toBe(2);
  });
  it('fails when a backup was deleted (events missing), an event is duplicated, or rotation never happened', () => {
    const lost = judgeSeries(readAuditFiles(logDir({ 'audit-1.log': [ev('2', 'r2')], 'audit.log': [ev('3', 'r3')] })), ['r1', 'r2', 'r3'], markerOf);
    expect(lost.ok).toBe(false);
    expect(lost.missing).toEqual(['r1']);
    const dup = judgeSeries(readAuditFiles(logDir({ 'audit-1.log': [ev('1', 'r1')], 'audit-2.log': [ev('1', 'r1')], 'audit.log': [] })), ['r1'], markerOf);
    expect(dup.duplicated).toEqual(['r1']);
    const none = judgeSeries(readAuditFiles(logDir({ 'audit.log': [ev('1', 'r1')] })), ['r1'], markerOf);
    expect(none.ok).toBe(false);
    expect(none.summary).toMatch(/rotation was not exercised/);
  });
  it('a corrupt line, or a torn rotated file, is a broken instrument', () => {
    expect(() => readAuditFiles(logDir({ 'audit-1.log': ['not json', ev('1', 'r1')], 'audit.log': [] }))).toThrow(/line 1 is not JSON/);
  });
});
