import type { CheckResult } from '../check/types.ts';
import type { BuildRecord } from '../images/record.ts';
import { compareRequirements, PCI_REQUIREMENTS, requirementTitle } from '../pci/requirements.ts';
import { isLiveResult, type LiveResult } from '../scenario/result.ts';
import { combinedStatus } from './summary.ts';
import type { VitestOutcome } from './vitest-outcome.ts';

/**
 * Everything the evidence package's human and machine reports (report.html,
 * assessment-results.json, the attestation's predicate) are rendered from:
 * one run, as data. The renderers are pure functions of this, so re-rendering
 * the same run gives the same bytes.
 */
export interface RunContext {
  version: string;
  /** The run's stamp (also the default package directory name). */
  runId: string;
  /** ISO 8601 times of the run's start and end. */
  startedAt: string;
  finishedAt: string;
  commit: string;
  manifests: string;
  /** sha256 over the manifest directory (harness/evidence/digest.ts). */
  manifestDigest: string;
  imageSource: string;
  versions: ImageVersions;
  /** Wall time of each step of the run. */
  timings: Array<{ step: string; seconds: number }>;
  verdict: { code: number; reasons: string[] };
  /** `run --shard i/n`: which slice of the live files this run ran (scripts/cli/shard.ts). */
  shard?: { index: number; count: number; files: string[] };
  /** `pci-harness merge`: the shard packages this one was made of, each kept signed under shards/<name>/. */
  merged?: Array<{ name: string; runId: string; shard?: { index: number; count: number }; signedBy: string[]; exitCode: number }>;
}

export interface ImageVersions {
  kubernetes?: string;
  cni?: string;
  kyverno?: string;
  images: Array<{ role: string; ref: string; digest: string }>;
}

export interface RunReport {
  context: RunContext;
  offline: CheckResult[];
  /** Undefined when the live lane did not run (then `liveNotRun` says why). */
  live?: LiveResult[];
  liveNotRun?: string;
  /** Requirement titles from the control map (fall back to harness/pci/requirements.ts). */
  titles: Record<string, string>;
  vitest?: VitestOutcome;
}

export type RequirementVerdictKind = 'pass' | 'fail' | 'inconclusive' | 'not-tested';

export interface RequirementVerdict {
  requirement: string;
  title: string;
  verdict: RequirementVerdictKind;
  /** Why, in one sentence (always set for anything but pass). */
  why: string;
  offline: CheckResult[];
  live: LiveResult[];
}

/** Tag of an image reference: `docker.io/calico/node:v3.30.1` → `v3.30.1`. */
function tagOf(ref: string): string | undefined {
  const name = ref.split('@')[0] ?? ref;
  const i = name.lastIndexOf(':');
  return i > name.lastIndexOf('/') ? name.slice(i + 1) : undefined;
}

/**
 * The versions an assessor asks for, read from the image build's supply-chain
 * record. The record holds every CNI built; `cni` says which one the run's
 * cluster ran (default Calico, the live lane's default).
 */
export function versionsFromRecord(record: BuildRecord | undefined, cni: 'calico' | 'cilium' = 'calico'): ImageVersions {
  if (!record) return { images: [] };
  const tag = (role: string) => {
    const ref = record.images.find((i) => i.role === role)?.ref;
    return ref ? tagOf(ref) : undefined;
  };
  const cniTag = tag(cni === 'cilium' ? 'cilium-agent' : 'calico-node');
  const kyverno = tag('kyverno');
  return {
    kubernetes: record.kubernetesVersion,
    ...(cniTag ? { cni: `${cni === 'cilium' ? 'Cilium' : 'Calico'} ${cniTag}` } : {}),
    ...(kyverno ? { kyverno } : {}),
    images: record.images.map((i) => ({ role: i.role, ref: i.ref, digest: i.digest })),
  };
}

const STATUS_WHY: Record<Exclude<RequirementVerdictKind, 'pass' | 'not-tested'>, string> = {
  fail: 'failed',
  inconclusive: 'inconclusive (an instrument broke or enforcement was not proven): not a pass',
};

/**
 * Every requirement of the harness's table and every requirement a result
 * names, with its verdict. A requirement nothing tested, or whose every
 * result was skipped, is `not-tested` — never a pass.
 */
export function requirementVerdicts(report: RunReport): RequirementVerdict[] {
  const all: CheckResult[] = [...report.offline, ...(report.live ?? [])];
  const ids = new Set([...Object.keys(PCI_REQUIREMENTS), ...all.map((r) => r.requirement)]);
  return [...ids].sort(compareRequirements).map((requirement) => {
    const rs = all.filter((r) => r.requirement === requirement);
    const offline = rs.filter((r) => !isLiveResult(r));
    const live = rs.filter(isLiveResult);
    const title = report.titles[requirement] ?? requirementTitle(requirement);
    const status = combinedStatus(rs);
    if (rs.length === 0) return { requirement, title, verdict: 'not-tested', why: 'no check or scenario of this run covers it', offline, live };
    if (status === 'skip') return { requirement, title, verdict: 'not-tested', why: `every result was skipped (${rs.length}): ${rs[0]!.message}`, offline, live };
    if (status === 'pass') {
      const lanes = [offline.length ? `${offline.filter((r) => r.status === 'pass').length} offline` : '', live.length ? `${live.filter((r) => r.status === 'pass').length} live` : ''].filter(Boolean).join(', ');
      return { requirement, title, verdict: 'pass', why: `every result passed (${lanes})`, offline, live };
    }
    const bad = rs.filter((r) => r.status === status);
    return { requirement, title, verdict: status, why: `${bad.length} result(s) ${STATUS_WHY[status]}: ${[...new Set(bad.map((r) => r.check))].join(', ')}`, offline, live };
  });
}

/** The run's result summary (the attestation's predicate and the OSCAL result's props). */
export function resultSummary(report: RunReport) {
  const count = (rs: readonly CheckResult[]) => ({
    passed: rs.filter((r) => r.status === 'pass').length,
    failed: rs.filter((r) => r.status === 'fail').length,
    inconclusive: rs.filter((r) => r.status === 'inconclusive').length,
    skipped: rs.filter((r) => r.status === 'skip').length,
  });
  const verdicts = requirementVerdicts(report);
  const ctx = report.context;
  return {
    tool: 'pci-harness',
    version: ctx.version,
    standard: 'PCI DSS v4.0',
    runId: ctx.runId,
    startedAt: ctx.startedAt,
    finishedAt: ctx.finishedAt,
    commit: ctx.commit,
    manifests: ctx.manifests,
    manifestDigest: ctx.manifestDigest,
    exitCode: ctx.verdict.code,
    reasons: ctx.verdict.reasons,
    offline: count(report.offline),
    live: report.live ? count(report.live) : null,
    requirements: Object.fromEntries(verdicts.map((v) => [v.requirement, v.verdict])),
    ...(ctx.shard ? { shard: { index: ctx.shard.index, count: ctx.shard.count } } : {}),
    ...(ctx.merged ? { merged: ctx.merged.map((m) => ({ name: m.name, runId: m.runId, signedBy: m.signedBy })) } : {}),
  };
}
