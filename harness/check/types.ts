import type { LoadedObject, ManifestSet } from '../manifests/types.ts';

/**
 * `inconclusive` is the live lane's "the instrument broke or enforcement is
 * unproven" (harness/scenario/result.ts): never a pass, never a verdict on the
 * control. Offline analyzers never produce it. One type so every reporter
 * renders both lanes with the same code.
 */
export type Status = 'pass' | 'fail' | 'skip' | 'inconclusive';

/**
 * One proven (or disproven) statement about the manifest set. A failure must
 * name its PCI DSS v4.0 requirement (bare number, e.g. "1.3.1"), the object,
 * and the file and line that carry the defect.
 */
export interface CheckResult {
  /** Stable check id, `<area>.<check>`, e.g. `network.reachability`. */
  check: string;
  /** PCI DSS v4.0 requirement number, e.g. "1.3.1". */
  requirement: string;
  status: Status;
  /** What was proven, or what is wrong and what to do about it. */
  message: string;
  /** `Kind/namespace/name` of the object at fault (or proven). */
  object?: string;
  file?: string;
  line?: number;
}

export interface CheckOptions {
  /** Path to the Kyverno CLI binary; undefined means "look it up". */
  kyvernoCli?: string;
  /** The user opted out of the Kyverno CLI lane: report it as skipped, not failed. */
  skipKyverno?: boolean;
}

/** One control area's offline proof. Analyzers are pure over the set, except Kyverno which runs its CLI. */
export interface Analyzer {
  /** Area id: network, pod-security, kyverno, rbac, audit, encryption, node-pool, schema. */
  area: string;
  title: string;
  /** It waits on a child process (the Kyverno CLI): started first so the in-process analyzers run meanwhile. */
  external?: boolean;
  run(set: ManifestSet, options: CheckOptions): CheckResult[] | Promise<CheckResult[]>;
}

/** Helper for analyzers: a result located at an object (and optionally a path inside it). */
export function at(
  o: LoadedObject,
  r: Omit<CheckResult, 'object' | 'file' | 'line'>,
  path?: (string | number)[],
): CheckResult {
  const m = o.object.metadata;
  const object = m.namespace ? `${o.object.kind}/${m.namespace}/${m.name}` : `${o.object.kind}/${m.name}`;
  return { ...r, object, file: o.source.file, line: path ? o.lineOf(path) : o.source.line };
}
