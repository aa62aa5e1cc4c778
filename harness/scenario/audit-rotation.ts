import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { AuditEvent } from './audit-log.ts';
import { auditFilesOldestFirst, parseAuditLog } from './diagnostics.ts';

/**
 * The pure half of the audit-rotation proof (suites/live/scenarios/audit-rotation.test.ts):
 * read the live audit.log and every rotated backup whole, find a known series
 * of events, and judge that rotation lost none and duplicated none.
 */
export interface AuditFile {
  file: string;
  bytes: number;
  events: AuditEvent[];
  /** The live file's last line may be mid-write; a rotated file never is. */
  torn: boolean;
}

/** Every `audit*.log` in `dir`, oldest first; a corrupt line (not the live file's torn tail) throws with file:line. */
export function readAuditFiles(dir: string): AuditFile[] {
  return auditFilesOldestFirst(dir).map((path) => {
    const text = readFileSync(path, 'utf8');
    const { events, torn, corrupt } = parseAuditLog<AuditEvent>(text);
    const file = basename(path);
    if (corrupt.length) throw new Error(`audit log ${path}: line ${corrupt[0]} is not JSON (${corrupt.length} bad line(s))`);
    if (torn && file !== 'audit.log') throw new Error(`audit log ${path}: a rotated file ends in a torn line`);
    return { file, bytes: Buffer.byteLength(text), events, torn };
  });
}

export interface SeriesVerdict {
  ok: boolean;
  expected: number;
  found: number;
  missing: string[];
  /** Markers seen more than once (by distinct auditID, or the same auditID twice). */
  duplicated: string[];
  /** Files holding at least one event of the series, oldest first, with how many. */
  spread: Array<{ file: string; events: number }>;
  /** Rotated files (not audit.log) holding events of the series. */
  rotatedWithSeries: number;
  summary: string;
}

/**
 * Each of `markers` must be in the files exactly once (`markerOf` maps an
 * event to its marker, or undefined for any other event), and the series must
 * span at least `minRotated` rotated files — else rotation did not happen
 * during the series and nothing about it was proven.
 */
export function judgeSeries(files: readonly AuditFile[], markers: readonly string[], markerOf: (e: AuditEvent) => string | undefined, minRotated = 2): SeriesVerdict {
  const seen = new Map<string, string[]>();
  const spread: SeriesVerdict['spread'] = [];
  for (const f of files) {
    let n = 0;
    for (const e of f.events) {
      const m = markerOf(e);
      if (m === undefined) continue;
      n++;
      seen.set(m, [...(seen.get(m) ?? []), e.auditID ?? `(no auditID in ${f.file})`]);
    }
    if (n) spread.push({ file: f.file, events: n });
  }
  const missing = markers.filter((m) => !seen.has(m));
  const duplicated = markers.filter((m) => (seen.get(m)?.length ?? 0) > 1);
  const rotatedWithSeries = spread.filter((s) => s.file !== 'audit.log').length;
  const found = markers.length - missing.length;
  const ok = missing.length === 0 && duplicated.length === 0 && rotatedWithSeries >= minRotated;
  const summary = [
    `${found} of ${markers.length} events found${missing.length ? ` (MISSING ${missing.length}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})` : ''}`,
    duplicated.length ? `${duplicated.length} DUPLICATED` : 'each exactly once',
    `across ${spread.length} file(s), ${rotatedWithSeries} rotated${rotatedWithSeries < minRotated ? ` (fewer than ${minRotated}: rotation was not exercised)` : ''}`,
  ].join('; ');
  return { ok, expected: markers.length, found, missing, duplicated, spread, rotatedWithSeries, summary };
}
