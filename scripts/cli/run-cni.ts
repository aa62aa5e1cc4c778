/**
 * `pci-harness run --cni calico|cilium|all`: the live lane once per CNI, the
 * same files against the same set, each result stamped with its CNI. With
 * both, the raw files of each go under live-results/<cni>/ and
 * live.vitest.<cni>.{json,junit.xml}; live.vitest.json is the merged outcome
 * (test names prefixed with the CNI), and the cells where the two CNIs gave
 * the same manifest different verdicts are listed: a finding, not noise.
 */
import type { VitestOutcome } from '../../harness/report/vitest-outcome.ts';
import type { LiveResult } from '../../harness/scenario/result.ts';
import { InputError } from '../../harness/errors.ts';

export type LiveCni = 'calico' | 'cilium';
export const CNI_CHOICES = ['calico', 'cilium', 'all'] as const;

export function cniList(flag: string | undefined): LiveCni[] {
  const v = flag ?? 'calico';
  if (v === 'all') return ['calico', 'cilium'];
  if (v === 'calico' || v === 'cilium') return [v];
  throw new InputError(`unknown --cni "${v}"`, { hint: `use one of: ${CNI_CHOICES.join(', ')}` });
}

/** One outcome from several CNIs' runs: every test, hook and error kept, named by its CNI. */
export function mergeOutcomes(parts: ReadonlyArray<{ cni: LiveCni; outcome: VitestOutcome | undefined }>): VitestOutcome | undefined {
  const present = parts.filter((p): p is { cni: LiveCni; outcome: VitestOutcome } => p.outcome !== undefined);
  if (parts.length === 1) return parts[0]!.outcome;
  if (present.length === 0) return undefined;
  const missing = parts.filter((p) => !p.outcome).map((p) => p.cni);
  return {
    ...present[0]!.outcome,
    tests: present.flatMap((p) => p.outcome.tests.map((t) => ({ ...t, name: `[${p.cni}] ${t.name}` }))),
    suiteErrors: present.flatMap((p) => p.outcome.suiteErrors.map((s) => ({ ...s, name: `[${p.cni}] ${s.name}` }))),
    unhandledErrors: [...present.flatMap((p) => p.outcome.unhandledErrors.map((m) => `[${p.cni}] ${m}`)), ...missing.map((c) => `[${c}] vitest left no outcome (it did not start, or crashed)`)],
  };
}

export interface CniDisagreement {
  key: string;
  requirement: string;
  verdicts: Record<LiveCni, { status: string; observed: string }>;
}

/**
 * The same attempt (scenario, adversary, action) observed differently on the
 * two CNIs. The prediction is the same model's, so one side disagrees with it
 * too; listing the pair says the difference is the CNI's, not the set's.
 */
export function cniDisagreements(results: readonly LiveResult[]): CniDisagreement[] {
  const by = new Map<string, Partial<Record<LiveCni, LiveResult>>>();
  for (const r of results) {
    if (!r.cni || r.status === 'skip') continue;
    const key = `${r.scenario} | ${r.adversary} | ${r.action}`;
    by.set(key, { ...by.get(key), [r.cni]: r });
  }
  const out: CniDisagreement[] = [];
  for (const [key, v] of by) {
    const { calico, cilium } = v;
    if (!calico || !cilium) continue;
    if (calico.observed === cilium.observed && calico.status === cilium.status) continue;
    out.push({ key, requirement: calico.requirement, verdicts: { calico: { status: calico.status, observed: calico.observed }, cilium: { status: cilium.status, observed: cilium.observed } } });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

export function renderDisagreements(d: readonly CniDisagreement[]): string {
  if (d.length === 0) return 'Calico and Cilium agree on every attempt both ran.';
  return [
    `${d.length} attempt(s) where the same manifests got different verdicts on Calico and Cilium (finding: the enforcement depends on the CNI):`,
    ...d.map((x) => `- [${x.requirement}] ${x.key}: calico ${x.verdicts.calico.observed} (${x.verdicts.calico.status}), cilium ${x.verdicts.cilium.observed} (${x.verdicts.cilium.status})`),
  ].join('\n');
}
