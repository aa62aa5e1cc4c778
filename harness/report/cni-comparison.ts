/**
 * Calico and Cilium compared: the same attempt (scenario, adversary, action)
 * judged differently on the two CNIs in one `run --cni all`. Rendered into
 * cni-comparison.txt, summary.md and report.html: a finding, not noise.
 */
import type { LiveResult } from '../scenario/result.ts';

export type ComparedCni = 'calico' | 'cilium';

export interface CniDisagreement {
  key: string;
  requirement: string;
  verdicts: Record<ComparedCni, { status: string; observed: string }>;
}

/**
 * The same attempt (scenario, adversary, action) observed differently on the
 * two CNIs. The prediction is the same model's, so one side disagrees with it
 * too; listing the pair says the difference is the CNI's, not the set's.
 */
/** The same attempt (scenario, adversary, action) on each CNI that ran it, by attempt. */
function byAttempt(results: readonly LiveResult[]): Map<string, Partial<Record<ComparedCni, LiveResult>>> {
  const by = new Map<string, Partial<Record<ComparedCni, LiveResult>>>();
  for (const r of results) {
    if (!r.cni) continue;
    const key = `${r.scenario} | ${r.adversary} | ${r.action}`;
    by.set(key, { ...by.get(key), [r.cni]: r });
  }
  return by;
}

export function cniDisagreements(results: readonly LiveResult[]): CniDisagreement[] {
  const out: CniDisagreement[] = [];
  for (const [key, { calico, cilium }] of byAttempt(results)) {
    // A skip is not a verdict: judged on one side only is a known difference (below), not a disagreement.
    if (!calico || !cilium || calico.status === 'skip' || cilium.status === 'skip') continue;
    if (calico.observed === cilium.observed && calico.status === cilium.status) continue;
    out.push({ key, requirement: calico.requirement, verdicts: { calico: { status: calico.status, observed: calico.observed }, cilium: { status: cilium.status, observed: cilium.observed } } });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * A legitimate CNI difference the harness knows: the attempt was judged on one
 * CNI and recorded not applicable on the other, with the reason (e.g. an
 * ipBlock over pod addresses, which Cilium does not apply to pods).
 */
export interface CniKnownDifference {
  key: string;
  requirement: string;
  judgedOn: ComparedCni;
  verdict: { status: string; observed: string };
  skippedOn: ComparedCni;
  reason: string;
}

export function cniKnownDifferences(results: readonly LiveResult[]): CniKnownDifference[] {
  const out: CniKnownDifference[] = [];
  for (const [key, { calico, cilium }] of byAttempt(results)) {
    if (!calico || !cilium || (calico.status === 'skip') === (cilium.status === 'skip')) continue;
    const [judged, skipped] = calico.status === 'skip' ? [cilium, calico] : [calico, cilium];
    out.push({ key, requirement: judged.requirement, judgedOn: judged.cni as ComparedCni, verdict: { status: judged.status, observed: judged.observed }, skippedOn: skipped.cni as ComparedCni, reason: skipped.message });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** Both CNIs in the results: the comparison applies. */
export function comparesCnis(results: readonly LiveResult[]): boolean {
  const cnis = new Set(results.map((r) => r.cni).filter(Boolean));
  return cnis.has('calico') && cnis.has('cilium');
}

export function renderDisagreements(d: readonly CniDisagreement[], known: readonly CniKnownDifference[] = []): string {
  const head =
    d.length === 0
      ? ['Calico and Cilium agree on every attempt both ran.']
      : [
          `${d.length} attempt(s) where the same manifests got different verdicts on Calico and Cilium (finding: the enforcement depends on the CNI):`,
          ...d.map((x) => `- [${x.requirement}] ${x.key}: calico ${x.verdicts.calico.observed} (${x.verdicts.calico.status}), cilium ${x.verdicts.cilium.observed} (${x.verdicts.cilium.status})`),
        ];
  const tail = known.length
    ? [
        '',
        `${known.length} known CNI difference(s) the harness accounts for (judged on one CNI, not observable on the other):`,
        ...known.map((x) => `- [${x.requirement}] ${x.key}: ${x.judgedOn} ${x.verdict.observed} (${x.verdict.status}); ${x.skippedOn}: ${x.reason}`),
      ]
    : [];
  return [...head, ...tail].join('\n');
}
