/**
 * Upstream fidelity, Pod Security: every fixture Kubernetes ships for the
 * PodSecurity admission plugin (k8s.io/pod-security-admission
 * test/testdata/<level>/<version>/{pass,fail}/*.yaml, the Kubernetes minor in
 * use) is run through the pod-security ANALYZER: the pod sits in a namespace
 * labelled `enforce: <level>`, `enforce-version: <version>` (so the label
 * parsing and version resolution are part of what is proven), and the
 * `pod-security.enforced` verdict must be upstream's: a pass fixture admitted,
 * a fail fixture rejected by the check the fixture is named after (or by the
 * restricted check that replaces it at that version).
 *
 * The module comes from the Go module cache or the module proxy
 * (scripts/upstream-testdata.ts); only when both are unavailable is the suite
 * skipped, saying so. docs/upstream-fidelity.md records the figures.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { podSecurityAnalyzer } from '../../harness/analyzers/pod-security.ts';
import { CHECKS, checksFor, LATEST_MINOR, type Level } from '../../harness/analyzers/pod-security/checks.ts';
import type { CheckResult } from '../../harness/check/types.ts';
import { parseManifestText } from '../../harness/manifests/load.ts';
import { imageConfig, kubernetesParts } from '../../scripts/images/lib/config.ts';
import { moduleDirOrSkip } from '../../scripts/upstream-testdata.ts';

const MODULE = 'k8s.io/pod-security-admission';
/** The staging module of the Kubernetes release the harness targets (v1.34.12 → v0.34.12). */
const VERSION = kubernetesParts(imageConfig().kubernetesVersion).staging;
const LEVELS: Level[] = ['baseline', 'restricted'];
/** Versions the harness claims: every policy version from v1.0 to the newest (v1.34). */
const CLAIMED = Array.from({ length: LATEST_MINOR + 1 }, (_, i) => i);

const mod = moduleDirOrSkip(MODULE, VERSION);
const testdata = 'dir' in mod ? join(mod.dir, 'test', 'testdata') : '';

interface Row {
  level: Level;
  version: string;
  cases: number;
  agreed: number;
  disagreed: string[];
}
const rows: Row[] = [];

const checkIdByFile = new Map(CHECKS.map((c) => [c.id.toLowerCase(), c.id]));

/** The upstream check a fixture file exercises ("capabilities_baseline3.yaml" → capabilities_baseline), undefined for base*. */
function fixtureCheck(file: string): string | undefined {
  return checkIdByFile.get(file.replace(/\d*\.yaml$/, ''));
}

/** The analyzer's pod-security.enforced results for one upstream pod in a namespace enforcing level@version. */
function judge(podYaml: string, file: string, level: Level, version: string): CheckResult[] {
  const ns = stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/enforce-version': version } } });
  const objects = [...parseManifestText(ns, 'namespace.yaml'), ...parseManifestText(podYaml, file)];
  return (podSecurityAnalyzer.run({ dir: testdata, objects }, {}) as CheckResult[]).filter((r) => r.check === 'pod-security.enforced');
}

function evaluate(level: Level, minor: number): Row {
  const version = `v1.${minor}`;
  const row: Row = { level, version, cases: 0, agreed: 0, disagreed: [] };
  const active = checksFor(level, minor);
  // A fixture for check X fails, at a restricted level, through the check that overrides X there.
  const accepted = (check: string) => new Set([check, ...active.filter((c) => c.check.overrides?.includes(check)).map((c) => c.id)]);
  for (const verdict of ['pass', 'fail'] as const) {
    const dir = join(testdata, level, version, verdict);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
      row.cases++;
      const rel = `test/testdata/${level}/${version}/${verdict}/${file}`;
      const results = judge(readFileSync(join(dir, file), 'utf8'), rel, level, version);
      const fails = results.filter((r) => r.status === 'fail');
      const ids = new Set(fails.map((r) => /\(check (\w+)\)/.exec(r.message)?.[1]));
      let problem: string | undefined;
      if (results.length === 0) problem = 'no pod-security.enforced result at all';
      else if (verdict === 'pass' && fails.length) problem = `upstream admits it, the harness rejects it: ${fails.map((f) => f.message).join(' | ')}`;
      else if (verdict === 'fail' && !fails.length) problem = 'upstream rejects it, the harness admits it';
      else if (verdict === 'fail') {
        const want = fixtureCheck(file);
        if (want && ![...accepted(want)].some((id) => ids.has(id))) problem = `rejected, but by ${[...ids].join(', ')} instead of ${[...accepted(want)].join(' or ')}`;
      }
      if (problem) row.disagreed.push(`${MODULE}@${VERSION} ${rel}: ${problem}`);
      else row.agreed++;
    }
  }
  rows.push(row);
  return row;
}

if ('skip' in mod) {
  describe('upstream Pod Security fixtures', () => {
    it.skip(`SKIPPED: ${MODULE}@${VERSION} is neither in the Go module cache nor reachable through the module proxy (${mod.skip})`, () => {});
  });
} else {
  describe(`upstream Pod Security fixtures (${MODULE}@${VERSION})`, () => {
    it('the module ships fixtures for exactly the versions the harness implements (v1.0 … v1.34)', () => {
      for (const level of LEVELS) {
        const present = readdirSync(join(testdata, level))
          .map((d) => /^v1\.(\d+)$/.exec(d)?.[1])
          .filter((x): x is string => x !== undefined)
          .map(Number)
          .sort((a, b) => a - b);
        // A newer directory means upstream added policy changes the harness has not ported.
        expect(present, `${level}: upstream fixture versions vs the versions checks.ts implements`).toEqual(CLAIMED);
      }
    });

    for (const level of LEVELS)
      it.each(CLAIMED.map((m) => [`${level} v1.${m}`, m] as const))('%s: 100 % agreement', (_name, minor) => {
        const row = evaluate(level, minor);
        expect(row.cases, `no fixtures under ${level}/v1.${minor}`).toBeGreaterThan(0);
        expect(row.disagreed, `${row.disagreed.length} of ${row.cases} upstream fixtures disagree`).toEqual([]);
      });
  });

  afterAll(() => {
    if (!rows.length) return;
    rows.sort((a, b) => (a.level === b.level ? Number(a.version.slice(3)) - Number(b.version.slice(3)) : a.level < b.level ? -1 : 1));
    const line = (c: string[]) => `  ${c[0]!.padEnd(11)} ${c[1]!.padEnd(8)} ${c[2]!.padStart(6)} ${c[3]!.padStart(7)} ${c[4]!.padStart(10)}`;
    const total = rows.reduce((a, r) => ({ cases: a.cases + r.cases, agreed: a.agreed + r.agreed, dis: a.dis + r.disagreed.length }), { cases: 0, agreed: 0, dis: 0 });
    console.log(
      [
        `upstream Pod Security fixtures, ${MODULE}@${VERSION} (pod-security analyzer vs upstream verdicts):`,
        line(['level', 'version', 'cases', 'agreed', 'disagreed']),
        ...rows.map((r) => line([r.level, r.version, String(r.cases), String(r.agreed), String(r.disagreed.length)])),
        line(['total', '', String(total.cases), String(total.agreed), String(total.dis)]),
        ...rows.flatMap((r) => r.disagreed.map((d) => `  DISAGREE ${d}`)),
      ].join('\n'),
    );
  });
}
