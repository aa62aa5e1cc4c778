import type { CheckResult } from '../check/types.ts';
import { uuidV5 } from '../evidence/uuid.ts';
import { isLiveResult } from '../scenario/result.ts';
import { requirementVerdicts, type RunReport } from './run-report.ts';

/**
 * assessment-results.json: the run as OSCAL 1.1.3 Assessment Results, for
 * GRC tools. Each offline check and each live (check, scenario) is an
 * observation (method TEST, when it was collected, the package file that
 * holds its results, linked through back-matter with its SHA-256); each
 * PCI DSS v4.0 requirement is a finding (satisfied only when every result
 * passed; otherwise not-satisfied with the reason: fail, inconclusive or
 * not-tested). UUIDs are v5 from stable names (run id, commit, check,
 * scenario, requirement), so the same run renders to the same bytes.
 */
export const OSCAL_VERSION = '1.1.3';
/** Namespace of this harness's own props (OSCAL requires one for names it does not define). */
export const PROP_NS = 'https://pci-harness.dev/ns/oscal';

/** A package file the document links to, with the SHA-256 of its bytes. */
export interface EvidenceFile {
  path: string;
  sha256: string;
}

const MEDIA: Array<[RegExp, string]> = [
  [/\.json$/, 'application/json'],
  [/\.jsonl$/, 'application/jsonl'],
  [/\.sarif$/, 'application/sarif+json'],
  [/\.xml$/, 'application/xml'],
  [/\.html$/, 'text/html'],
  [/\.md$/, 'text/markdown'],
];
const mediaType = (p: string) => MEDIA.find(([re]) => re.test(p))?.[1] ?? 'text/plain';

/** OSCAL's token type (an XML NCName): `1.3.1` → `pci-dss-v4.0-req-1.3.1`. */
export const controlId = (requirement: string) => `pci-dss-v4.0-req-${requirement.replace(/[^\p{L}\p{N}._-]/gu, '_')}`;

/** OSCAL string: non-empty, no leading/trailing or embedded line breaks (StringDatatype). */
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim() || '-';

const prop = (name: string, value: string | number) => ({ name, ns: PROP_NS, value: oneLine(String(value)) });

interface ObservationGroup {
  key: string;
  lane: 'offline' | 'live';
  check: string;
  scenario?: string;
  results: CheckResult[];
}

function groups(report: RunReport): ObservationGroup[] {
  const out = new Map<string, ObservationGroup>();
  for (const r of [...report.offline, ...(report.live ?? [])]) {
    const live = isLiveResult(r);
    const key = live ? `live ${r.check} ${r.scenario}` : `offline ${r.check}`;
    let g = out.get(key);
    if (!g) out.set(key, (g = { key, lane: live ? 'live' : 'offline', check: r.check, ...(live ? { scenario: r.scenario } : {}), results: [] }));
    g.results.push(r);
  }
  return [...out.values()];
}

function counts(rs: readonly CheckResult[]) {
  const n = (s: CheckResult['status']) => rs.filter((r) => r.status === s).length;
  return { pass: n('pass'), fail: n('fail'), inconclusive: n('inconclusive'), skip: n('skip') };
}

const countText = (c: ReturnType<typeof counts>) => `${c.pass} passed, ${c.fail} failed, ${c.inconclusive} inconclusive, ${c.skip} skipped`;

/** Up to `max` non-passing results, one line each (the rest are in the linked file). */
function notPassedLines(rs: readonly CheckResult[], max = 20): string {
  const bad = rs.filter((r) => r.status === 'fail' || r.status === 'inconclusive');
  if (!bad.length) return '';
  const lines = bad.slice(0, max).map((r) => `- ${r.status.toUpperCase()} [${r.requirement}] ${oneLine(r.message)}${isLiveResult(r) && r.finding ? ` — finding: ${oneLine(r.finding)}` : ''}`);
  if (bad.length > max) lines.push(`- … and ${bad.length - max} more (see the linked file)`);
  return `\n${lines.join('\n')}`;
}

/** The scenario's attack story (ScenarioDef.narrative), when its results carry one. */
function narrativeText(rs: readonly CheckResult[]): string {
  const told = [...new Set(rs.flatMap((r) => (isLiveResult(r) && r.narrative ? [oneLine(r.narrative)] : [])))];
  return told.length ? ` Scenario: ${told.join(' ')}` : '';
}

function addSeconds(iso: string, seconds: number): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t + Math.round(seconds * 1000)).toISOString();
}

export function renderOscal(report: RunReport, files: readonly EvidenceFile[]): string {
  const c = report.context;
  const run = `${c.runId}|${c.commit}`;
  const id = (kind: string, name = '') => uuidV5(`pci-harness|${run}|${kind}|${name}`);
  const resourceOf = new Map(files.map((f) => [f.path, id('resource', f.path)]));
  const planResource = id('resource', 'assessment-plan');
  const offlineSeconds = c.timings.find((t) => t.step === 'offline check')?.seconds;
  const collected = { offline: offlineSeconds === undefined ? c.startedAt : addSeconds(c.startedAt, offlineSeconds), live: c.finishedAt };
  const sourceFile = { offline: 'check.json', live: 'live.json' } as const;

  const gs = groups(report);
  const obsUuid = new Map(gs.map((g) => [g.key, id('observation', g.key)]));
  const observations = gs.map((g) => {
    const file = sourceFile[g.lane];
    const cnt = counts(g.results);
    const reqs = [...new Set(g.results.map((r) => r.requirement))];
    const evidence = [
      {
        ...(resourceOf.has(file) ? { href: `#${resourceOf.get(file)}` } : {}),
        description: `${file}: the ${g.results.length} result(s) of check ${g.check}${g.scenario ? `, scenario ${g.scenario}` : ''} (results[] with check = "${g.check}"${g.scenario ? ` and scenario = "${g.scenario}"` : ''}).`,
      },
      ...(resourceOf.has('report.html') ? [{ href: `#${resourceOf.get('report.html')}`, description: 'report.html: the same results for a person, per requirement.' }] : []),
    ];
    return {
      uuid: obsUuid.get(g.key) as string,
      title: oneLine(`${g.lane === 'live' ? 'Live' : 'Offline'} ${g.check}${g.scenario ? ` — ${g.scenario}` : ''}`),
      description: `${g.lane === 'live' ? 'Attack run against a live kind cluster with the PCI set applied' : 'Offline proof over the manifest set'}: check ${g.check}${g.scenario ? `, scenario ${g.scenario}` : ''}; ${countText(cnt)}; requirements ${reqs.join(', ')}.${narrativeText(g.results)}${notPassedLines(g.results)}`,
      props: [prop('lane', g.lane), prop('check', g.check), ...(g.scenario ? [prop('scenario', g.scenario)] : []), prop('passed', cnt.pass), prop('failed', cnt.fail), prop('inconclusive', cnt.inconclusive), prop('skipped', cnt.skip)],
      methods: ['TEST'],
      types: ['control-objective'],
      collected: collected[g.lane],
      'relevant-evidence': evidence,
    };
  });

  const verdicts = requirementVerdicts(report);
  const findings = verdicts.map((v) => {
    const rs = [...v.offline, ...v.live];
    const related = gs.filter((g) => g.results.some((r) => r.requirement === v.requirement)).map((g) => ({ 'observation-uuid': obsUuid.get(g.key) as string }));
    const state = v.verdict === 'pass' ? 'satisfied' : 'not-satisfied';
    const reason = v.verdict === 'pass' ? 'pass' : v.verdict;
    const title = oneLine(`PCI DSS v4.0 ${v.requirement}${v.title ? ` ${v.title}` : ''}`);
    return {
      uuid: id('finding', v.requirement),
      title,
      description:
        v.verdict === 'not-tested'
          ? `Not tested by this run: ${v.why}. This is not a pass; the requirement needs other evidence.`
          : `${v.verdict === 'pass' ? 'Satisfied' : v.verdict === 'fail' ? 'Not satisfied: a check or scenario failed' : 'Not satisfied: inconclusive (an instrument broke or enforcement was not proven), never a pass'}. ${v.why}. ${countText(counts(rs))}.${notPassedLines(rs)}`,
      props: [prop('verdict', v.verdict)],
      target: {
        type: 'objective-id',
        'target-id': controlId(v.requirement),
        title,
        status: { state, reason },
      },
      ...(related.length ? { 'related-observations': related } : {}),
    };
  });

  const resources = [
    {
      uuid: planResource,
      title: 'pci-harness assessment method',
      description: `No separate OSCAL assessment plan: the plan is the harness itself — the offline analyzers and the live attack suites of pci-harness ${c.version} at commit ${c.commit}, mapped to PCI DSS v4.0 in docs/controls.md and manifests/spec/controls.yaml.`,
    },
    ...files.map((f) => ({
      uuid: resourceOf.get(f.path) as string,
      title: f.path,
      description: `Evidence package file ${f.path}.`,
      rlinks: [{ href: f.path, 'media-type': mediaType(f.path), hashes: [{ algorithm: 'SHA-256', value: f.sha256 }] }],
    })),
  ];

  const doc = {
    'assessment-results': {
      uuid: id('assessment-results'),
      metadata: {
        title: `PCI DSS v4.0 assessment results — pci-harness run ${c.runId}`,
        'last-modified': c.finishedAt,
        version: c.version,
        'oscal-version': OSCAL_VERSION,
        props: [prop('commit', c.commit), prop('manifest-digest', c.manifestDigest), prop('exit-code', c.verdict.code)],
      },
      'import-ap': { href: `#${planResource}`, remarks: 'The assessment method is described by the back-matter resource this points to.' },
      results: [
        {
          uuid: id('result'),
          title: `pci-harness run ${c.runId}`,
          description: `Offline proof of the manifest set (${c.manifests}, ${c.manifestDigest})${report.live ? ' and live attack suites on an ephemeral kind cluster' : `; live lane ${report.liveNotRun ?? 'not run'}`}. Exit ${c.verdict.code}.${c.verdict.reasons.length ? ` ${c.verdict.reasons.map(oneLine).join('; ')}` : ''}`,
          start: c.startedAt,
          end: c.finishedAt,
          props: [
            ...(c.versions.kubernetes ? [prop('kubernetes-version', c.versions.kubernetes)] : []),
            ...(c.versions.cni ? [prop('cni', c.versions.cni)] : []),
            ...(c.versions.kyverno ? [prop('kyverno-version', c.versions.kyverno)] : []),
            prop('image-source', c.imageSource),
          ],
          'reviewed-controls': {
            description: 'Every PCI DSS v4.0 requirement the harness knows of; those no check covers are findings with reason not-tested.',
            'control-selections': [{ 'include-controls': verdicts.map((v) => ({ 'control-id': controlId(v.requirement) })) }],
          },
          ...(observations.length ? { observations } : {}),
          findings,
        },
      ],
      'back-matter': { resources },
    },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
