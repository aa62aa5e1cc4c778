import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { moduleDirOrSkip } from '../../scripts/upstream-testdata.ts';
import { uuidV5 } from '../evidence/uuid.ts';
import { runReport } from './fixtures.ts';
import { controlId, renderOscal, type EvidenceFile } from './oscal.ts';

/**
 * The OSCAL document is validated against NIST's complete OSCAL 1.1.3 JSON
 * schema (draft-07), as shipped in a Go module and fetched through the Go
 * module proxy like the other upstream test data (scripts/upstream-testdata.ts).
 * Formats (date-time, uri, uri-reference, email) are checked by ajv-formats.
 */
const GO_OSCAL = { module: 'github.com/defenseunicorns/go-oscal', version: 'v0.7.0', schema: 'src/internal/schemas/oscal_complete_schema-1-1-3.json' };
const mod = moduleDirOrSkip(GO_OSCAL.module, GO_OSCAL.version);
if ('skip' in mod) process.stderr.write(`SKIP OSCAL schema validation: ${mod.skip}\n`);

// ajv-formats is CommonJS: its default export is the plugin itself at runtime; the types describe `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;

function validator() {
  if ('skip' in mod) throw new Error('unreachable');
  const schema = JSON.parse(readFileSync(join(mod.dir, GO_OSCAL.schema), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

const FILES: EvidenceFile[] = [
  { path: 'check.json', sha256: 'a'.repeat(64) },
  { path: 'live.json', sha256: 'b'.repeat(64) },
  { path: 'report.html', sha256: 'c'.repeat(64) },
  { path: 'live-results/results.jsonl', sha256: 'd'.repeat(64) },
];

type Doc = { 'assessment-results': Record<string, any> };
const parse = (s: string) => JSON.parse(s) as Doc;

describe('OSCAL assessment results', () => {
  it.skipIf('skip' in mod)('validates against NIST OSCAL 1.1.3 complete schema: passing, failing and offline-only runs', () => {
    const validate = validator();
    for (const r of [runReport(), runReport({ failing: true }), runReport({ offlineOnly: true })]) {
      const doc = parse(renderOscal(r, FILES));
      const ok = validate(doc);
      expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 5), null, 1)).toEqual([]);
      expect(ok).toBe(true);
    }
    // The validator is not a rubber stamp: a finding with an unknown state, and a bad UUID, are rejected.
    const doc = parse(renderOscal(runReport(), FILES));
    doc['assessment-results'].results[0].findings[0].target.status.state = 'passed';
    expect(validate(doc)).toBe(false);
    const doc2 = parse(renderOscal(runReport(), FILES));
    doc2['assessment-results'].uuid = 'not-a-uuid';
    expect(validate(doc2)).toBe(false);
    // ajv-formats is in effect: a uri-reference with a space is rejected by format, not by any pattern.
    const doc3 = parse(renderOscal(runReport(), FILES));
    doc3['assessment-results']['import-ap'].href = 'live json#a b';
    expect(validate(doc3)).toBe(false);
    expect(validate.errors?.some((e) => e.keyword === 'format')).toBe(true);
  });

  it('each check / scenario is an observation (TEST, collected, evidence linked to a package file with its SHA-256)', () => {
    const ar = parse(renderOscal(runReport(), FILES))['assessment-results'];
    const obs = ar.results[0].observations as Array<Record<string, any>>;
    expect(obs.map((o) => o.title)).toEqual(['Offline network.reachability', 'Offline rbac.least-privilege', 'Live live.network.matrix — lateral.matrix', 'Live live.admission.psa — admission.privileged-psa']);
    for (const o of obs) {
      expect(o.methods).toEqual(['TEST']);
      expect(o.collected).toMatch(/^2026-12-01T09:/);
      const href = o['relevant-evidence'][0].href as string;
      const res = ar['back-matter'].resources.find((x: { uuid: string }) => `#${x.uuid}` === href);
      expect(res.rlinks[0]).toEqual({ href: o.title.startsWith('Live') ? 'live.json' : 'check.json', 'media-type': 'application/json', hashes: [{ algorithm: 'SHA-256', value: (o.title.startsWith('Live') ? 'b' : 'a').repeat(64) }] });
    }
    expect(obs[0]?.collected).toBe('2026-12-01T09:29:11.329Z'); // start + the offline step
  });

  it('each requirement is a finding: satisfied, not-satisfied with the reason, and not-tested said so', () => {
    const bad = parse(renderOscal(runReport({ failing: true }), FILES))['assessment-results'];
    const finding = (req: string) => bad.results[0].findings.find((f: any) => f.target['target-id'] === controlId(req));
    expect(finding('7.2.1').target.status).toEqual({ state: 'satisfied', reason: 'pass' });
    expect(finding('1.3.1').target.status).toEqual({ state: 'not-satisfied', reason: 'fail' });
    expect(finding('1.3.1').description).toContain('datastore-ingress admits cde-frontend');
    expect(finding('1.2.1').target.status).toEqual({ state: 'not-satisfied', reason: 'inconclusive' });
    expect(finding('4.2.1').target.status).toEqual({ state: 'not-satisfied', reason: 'not-tested' });
    expect(finding('4.2.1').description).toMatch(/^Not tested by this run: .*This is not a pass/);
    expect(finding('4.2.1')['related-observations']).toBeUndefined();
    const obsIds = new Set(bad.results[0].observations.map((o: { uuid: string }) => o.uuid));
    for (const r of finding('1.3.1')['related-observations']) expect(obsIds.has(r['observation-uuid'])).toBe(true);
  });

  it('deterministic: the same run gives identical bytes; another run, other UUIDs', () => {
    const a = renderOscal(runReport({ failing: true }), FILES);
    expect(renderOscal(runReport({ failing: true }), FILES)).toBe(a);
    const other = runReport({ failing: true });
    other.context.runId = '2026-12-02T00-00-00-000Z';
    expect(parse(renderOscal(other, FILES))['assessment-results'].uuid).not.toBe(parse(a)['assessment-results'].uuid);
    const uuids = a.match(/"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"/g) ?? [];
    expect(uuids.length).toBeGreaterThan(40);
  });

  it('uuidV5 is RFC 4122 version 5 (the DNS-namespace example)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});
