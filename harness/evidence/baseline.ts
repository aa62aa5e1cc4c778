import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { MATRIX_CHECK } from '../report/live.ts';
import { cellKind, targetOf } from '../report/matrix-grid.ts';
import { requirementVerdicts, type RequirementVerdictKind, type RunReport } from '../report/run-report.ts';
import { keyId } from './attest.ts';

/**
 * A baseline: the canonical record of what one run proved — every
 * requirement's verdict, every reachability-matrix cell, every RBAC answer,
 * every admission verdict, every image digest — signed by one or more keys
 * (CI signs, the release manager countersigns), with an expiry. `diff` says
 * what got weaker, stronger or changed between a baseline and a later run.
 *
 * Keys are made stable across runs: cluster names, nonces in object names
 * and IP addresses are replaced by placeholders (the same attack on the next
 * cluster has the same key).
 */
export const BASELINE_SCHEMA = 'pci-harness.dev/baseline/v1';

export interface BaselineRecord {
  schema: typeof BASELINE_SCHEMA;
  run: { runId: string; commit: string; manifestDigest: string; finishedAt: string; version: string; exitCode: number };
  requirements: Record<string, RequirementVerdictKind>;
  /** `<scenario> | <source> → <target>` → allowed | blocked | inconclusive | not-applicable | mismatch:<observed> */
  matrix: Record<string, string>;
  /** `<scenario> | <who> | <what>` → permitted | forbidden | check-failed */
  rbac: Record<string, string>;
  /** `<scenario> | <what>` → admitted | rejected | check-failed */
  admission: Record<string, string>;
  /** image role → image ID */
  images: Record<string, string>;
}

export interface BaselineSignature {
  keyid: string;
  signer: string;
  signedAt: string;
  /** ECDSA P-256 / SHA-256 over the canonical JSON of { record, expiresAt, keyid, signer, signedAt }. */
  sig: string;
}

export interface Baseline {
  schema: typeof BASELINE_SCHEMA;
  record: BaselineRecord;
  expiresAt: string;
  signatures: BaselineSignature[];
}

/** Placeholders for what differs between two clusters running the same attack. */
export function stableKey(s: string): string {
  return s
    .replace(/\bpci-[a-z0-9]{4,}-[0-9a-f]{4}\b/g, '<cluster>')
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '<ip>')
    // A Deployment's pod: <name>-<ReplicaSet hash>-<5 random>, both from Kubernetes' safe alphabet.
    .replace(/-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}\b/g, '-<pod>')
    .replace(/-(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f]|\d{4,})[0-9a-f]{4,12}\b/g, '-<n>');
}

/** JSON with object keys sorted at every level: the bytes a signature covers. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const put = (map: Record<string, string>, key: string, value: string) => {
  // Two results on one key (a re-recorded cell): the weaker wins, so a baseline never over-states.
  const prev = map[key];
  map[key] = prev === undefined || rankOf(value) < rankOf(prev) ? value : prev;
};

export function baselineRecord(report: RunReport): BaselineRecord {
  const c = report.context;
  const matrix: Record<string, string> = {};
  const rbac: Record<string, string> = {};
  const admission: Record<string, string> = {};
  for (const r of report.live ?? []) {
    if (r.check === MATRIX_CHECK) {
      const kind = cellKind(r);
      put(matrix, stableKey(`${r.scenario} | ${r.adversary} → ${targetOf(r.action)}`), kind === 'mismatch' ? `mismatch:${r.observed}` : kind);
    } else if (r.check.startsWith('live.rbac.')) put(rbac, stableKey(`${r.scenario} | ${r.adversary} | ${r.action}`), r.observed);
    else if (r.check.startsWith('live.admission.')) put(admission, stableKey(`${r.scenario} | ${r.action}`), r.observed);
  }
  return {
    schema: BASELINE_SCHEMA,
    run: { runId: c.runId, commit: c.commit, manifestDigest: c.manifestDigest, finishedAt: c.finishedAt, version: c.version, exitCode: c.verdict.code },
    requirements: Object.fromEntries(requirementVerdicts(report).map((v) => [v.requirement, v.verdict])),
    matrix,
    rbac,
    admission,
    images: Object.fromEntries(c.versions.images.map((i) => [i.role, i.digest])),
  };
}

const signedBytes = (b: Pick<Baseline, 'record' | 'expiresAt'>, s: Omit<BaselineSignature, 'sig'>) => Buffer.from(canonicalJson({ record: b.record, expiresAt: b.expiresAt, keyid: s.keyid, signer: s.signer, signedAt: s.signedAt }), 'utf8');

/** A new baseline, or one more signature on an existing one (the record and expiry are what every signature covers). */
export function signBaseline(b: Pick<Baseline, 'record' | 'expiresAt'> & { signatures?: BaselineSignature[] }, key: KeyObject, signer: string, now: Date = new Date()): Baseline {
  const meta = { keyid: keyId(key), signer, signedAt: now.toISOString() };
  const sig = sign('sha256', signedBytes(b, meta), key).toString('base64');
  const others = (b.signatures ?? []).filter((s) => s.keyid !== meta.keyid);
  return { schema: BASELINE_SCHEMA, record: b.record, expiresAt: b.expiresAt, signatures: [...others, { ...meta, sig }] };
}

export interface BaselineCheck {
  /** Signatures that verify with one of the given keys. */
  trusted: BaselineSignature[];
  /** Why the baseline is refused (empty: accepted). */
  problems: string[];
}

export function checkBaseline(b: Baseline, keys: readonly KeyObject[], now: Date = new Date()): BaselineCheck {
  const problems: string[] = [];
  if (b.schema !== BASELINE_SCHEMA || !b.record || !Array.isArray(b.signatures)) return { trusted: [], problems: [`not a pci-harness baseline (schema ${BASELINE_SCHEMA})`] };
  if (!b.signatures.length) problems.push('the baseline is unsigned: sign it with `pci-harness baseline sign`');
  const pubs = keys.map((k) => (k.type === 'private' ? createPublicKey(k) : k));
  const trusted = b.signatures.filter((s) =>
    pubs.some((k) => {
      try {
        return keyId(k) === s.keyid && verify('sha256', signedBytes(b, s), k, Buffer.from(s.sig, 'base64'));
      } catch {
        return false;
      }
    }),
  );
  if (b.signatures.length && !trusted.length) problems.push(`no signature verifies with the given key(s) ${pubs.map(keyId).join(', ')}: signed by ${b.signatures.map((s) => `${s.signer} (${s.keyid})`).join(', ')} — a wrong key, or the baseline was edited`);
  const exp = Date.parse(b.expiresAt);
  if (Number.isNaN(exp)) problems.push(`expiresAt "${b.expiresAt}" is not a date`);
  else if (exp <= now.getTime()) problems.push(`the baseline expired at ${b.expiresAt}: a release manager must sign a new one`);
  return { trusted, problems };
}

// ---------- diff ----------

const RANK: Record<string, number> = {
  // Lower is weaker. Reachability: allowed is weaker than blocked; a mismatch or a broken probe is weaker than a proven answer.
  pass: 4,
  inconclusive: 2,
  'not-tested': 1,
  fail: 0,
  blocked: 4,
  allowed: 3,
  forbidden: 4,
  permitted: 3,
  rejected: 4,
  admitted: 3,
  'not-applicable': 2,
  'check-failed': 1,
};
function rankOf(v: string): number {
  if (v.startsWith('mismatch:')) return 0;
  return RANK[v] ?? 2;
}

export type Direction = 'weaker' | 'stronger' | 'changed' | 'added' | 'removed';
export interface Change {
  area: 'requirement' | 'matrix' | 'rbac' | 'admission' | 'image';
  key: string;
  before?: string;
  after?: string;
  direction: Direction;
  /** One sentence for a release manager. */
  what: string;
}

const AREAS = [
  ['requirements', 'requirement'],
  ['matrix', 'matrix'],
  ['rbac', 'rbac'],
  ['admission', 'admission'],
  ['images', 'image'],
] as const;

function explain(area: Change['area'], key: string, before: string | undefined, after: string | undefined, d: Direction): string {
  const reachable = (v: string | undefined) => v === 'allowed' || v === 'mismatch:allowed';
  if (area === 'matrix' && reachable(after) && !reachable(before)) return `newly reachable: ${key}${after === 'mismatch:allowed' ? ' (the offline model predicts it blocked)' : ''}`;
  if (area === 'rbac' && after === 'permitted' && before !== 'permitted') return `a grant appeared: ${key}`;
  if (area === 'admission' && after === 'admitted' && before !== 'admitted') return `admission now admits: ${key}`;
  if (area === 'requirement' && d === 'weaker') return `requirement ${key} fell from ${before ?? 'absent'} to ${after}`;
  if (area === 'image') return `image ${key}: ${before ?? 'absent'} → ${after ?? 'absent'}`;
  return `${area} ${key}: ${before ?? 'absent'} → ${after ?? 'absent'}`;
}

export function diffRecords(a: BaselineRecord, b: BaselineRecord): Change[] {
  const out: Change[] = [];
  for (const [field, area] of AREAS) {
    const x = a[field] as Record<string, string>;
    const y = b[field] as Record<string, string>;
    for (const key of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
      const before = x[key];
      const after = y[key];
      if (before === after) continue;
      let d: Direction;
      if (area === 'image') d = 'changed';
      // Newly tested (a new scenario, target or workload) is listed as added; only a new failure counts as weaker.
      else if (before === undefined) d = rankOf(after as string) === 0 ? 'weaker' : 'added';
      else if (after === undefined) d = area === 'requirement' ? 'weaker' : 'removed';
      else d = rankOf(after) < rankOf(before) ? 'weaker' : rankOf(after) > rankOf(before) ? 'stronger' : 'changed';
      out.push({ area, key, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}), direction: d, what: explain(area, key, before, after, d) });
    }
  }
  return out;
}

const ORDER: Direction[] = ['weaker', 'removed', 'changed', 'added', 'stronger'];

export function renderDiff(changes: readonly Change[], a: BaselineRecord, b: BaselineRecord, format: 'text' | 'json' | 'markdown'): string {
  const count = (d: Direction) => changes.filter((c) => c.direction === d).length;
  const head = `baseline ${a.run.runId} (${a.run.commit.slice(0, 12)}) → ${b.run.runId} (${b.run.commit.slice(0, 12)}): ${count('weaker')} weaker, ${count('stronger')} stronger, ${count('changed')} changed, ${count('added')} added, ${count('removed')} removed`;
  const sorted = [...changes].sort((x, y) => ORDER.indexOf(x.direction) - ORDER.indexOf(y.direction));
  if (format === 'json') return JSON.stringify({ schema: 'pci-harness.dev/baseline-diff/v1', from: a.run, to: b.run, weaker: count('weaker') > 0, changes: sorted }, null, 2);
  if (format === 'markdown') {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    return [
      `### PCI DSS v4.0 baseline diff`,
      '',
      head,
      '',
      ...(sorted.length ? ['| | area | what | before | after |', '|---|---|---|---|---|', ...sorted.map((c) => `| ${c.direction === 'weaker' ? '**WEAKER**' : c.direction} | ${c.area} | ${esc(c.what)} | ${c.before ?? ''} | ${c.after ?? ''} |`)] : ['No change.']),
    ].join('\n');
  }
  return [head, ...sorted.map((c) => `  ${c.direction.toUpperCase().padEnd(8)} ${c.what}`)].join('\n');
}
