/**
 * `pci-harness run --cni calico|cilium|all`: the live lane once per CNI, the
 * same files against the same set, each result stamped with its CNI. With
 * both, the raw files of each go under live-results/<cni>/ and
 * live.vitest.<cni>.{json,junit.xml}; live.vitest.json is the merged outcome
 * (test names prefixed with the CNI), and the cells where the two CNIs gave
 * the same manifest different verdicts are listed: a finding, not noise.
 */
import type { VitestOutcome } from '../../harness/report/vitest-outcome.ts';
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

// The comparison is the report's (summary.md and report.html show it too).
export { cniDisagreements, cniKnownDifferences, renderDisagreements, type CniDisagreement } from '../../harness/report/cni-comparison.ts';
