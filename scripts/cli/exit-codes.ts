/**
 * Exit codes, documented in the README. CI branches on them, so they never change meaning.
 * `runVerdict` below is how `pci-harness run` picks one.
 */
export const EXIT = {
  /** Every control holds (check) / every scenario passed (run). */
  ok: 0,
  /** At least one control failed; the output names requirement, object, file and line. */
  controlFailed: 1,
  /** Bad input or usage: malformed YAML, unknown kind, unknown flag... Fix the input. */
  badInput: 2,
  /** The environment failed (Docker down, image build failed, cluster did not boot), or (run) a live result is inconclusive: not a verdict on the manifests. */
  environment: 3,
  /** Interrupted by SIGINT / SIGTERM (128 + signal number), after cleanup. */
  sigint: 130,
  sigterm: 143,
} as const;

/**
 * A live failure that means "the instrument is not proven", not "the control
 * failed": `requireEnforcement` throws `EnforcementError` ("NetworkPolicy is
 * NOT ENFORCED" / "UNVERIFIED (canary check failed)"); a scenario that records
 * an inconclusive LiveResult should fail its test with a message containing
 * INCONCLUSIVE (or throw an error named InconclusiveError) so vitest's verdict
 * agrees with the result.
 */
export const INCONCLUSIVE_MESSAGE = /\bEnforcementError\b|\bInconclusiveError\b|NOT ENFORCED|UNVERIFIED|\bINCONCLUSIVE\b/;

export type LaneVerdict = 'fail' | 'inconclusive';

/** A vitest failure (test, hook, module or unhandled error) by its messages. */
export function classifyVitestFailure(messages: readonly string[]): LaneVerdict {
  return messages.some((m) => INCONCLUSIVE_MESSAGE.test(m)) ? 'inconclusive' : 'fail';
}

/** What the vitest child reported, reduced to what the exit code needs (harness/report/vitest-outcome.ts). */
export interface VitestFailures {
  /** Tests that passed or failed (ran to a verdict). */
  executed: number;
  /** Failing tests, hooks, modules and unhandled errors, each with its messages. */
  failures: Array<{ name: string; messages: string[] }>;
}

export interface RunVerdictInput {
  /** Offline results (`pci-harness check` of the shipped set). */
  offline: ReadonlyArray<{ status: string; check: string; requirement: string }>;
  /** Undefined: the live lane was not attempted (--offline-only). */
  live?: {
    /** The environment failed before the suites (image recipe, Docker), or the vitest child left no outcome. */
    environment?: string;
    /** LiveResults recorded by the suites. */
    results: ReadonlyArray<{ status: string; check: string; requirement: string }>;
    vitest?: VitestFailures;
    /** The vitest child's exit code. */
    vitestExit?: number;
  };
}

export interface RunVerdict {
  code: 0 | 1 | 3;
  /** Why: one line per cause, in order fail, inconclusive, environment. */
  reasons: string[];
}

/**
 * The exit code of `pci-harness run`:
 *   1  a control failed: an offline fail, a live fail, or a vitest failure
 *      (test, hook, module) that is not an enforcement/inconclusive error —
 *      whether or not it recorded a LiveResult;
 *   3  nothing failed, but something is inconclusive (an inconclusive
 *      LiveResult, an EnforcementError / NOT ENFORCED / UNVERIFIED failure),
 *      or the environment failed (no image, no cluster, no test ran);
 *   0  everything else: every control holds and every live check passed.
 * A definite failure wins over inconclusive, as in `liveExitCode`
 * (harness/scenario/result.ts): it is a verdict on the manifests.
 */
export function runVerdict(input: RunVerdictInput): RunVerdict {
  const fail: string[] = [];
  const inconclusive: string[] = [];
  const environment: string[] = [];
  const offFail = input.offline.filter((r) => r.status === 'fail');
  if (offFail.length) fail.push(`offline: ${offFail.length} failed (${summarizeIds(offFail)})`);
  const live = input.live;
  if (live) {
    const lf = live.results.filter((r) => r.status === 'fail');
    const li = live.results.filter((r) => r.status === 'inconclusive');
    if (lf.length) fail.push(`live: ${lf.length} failed (${summarizeIds(lf)})`);
    if (li.length) inconclusive.push(`live: ${li.length} inconclusive (${summarizeIds(li)})`);
    for (const f of live.vitest?.failures ?? []) {
      const first = (f.messages[0] ?? 'no message').split('\n')[0];
      (classifyVitestFailure(f.messages) === 'inconclusive' ? inconclusive : fail).push(`vitest: ${f.name}: ${first}`);
    }
    if (live.environment) environment.push(`environment: ${live.environment}`);
    else if (!live.vitest) environment.push('environment: the live suites left no outcome (vitest did not start or crashed)');
    else if (live.vitest.executed === 0 && live.vitest.failures.length === 0) environment.push('environment: no live test ran');
    else if (live.vitestExit && live.vitestExit !== 0 && live.vitest.failures.length === 0 && lf.length === 0 && li.length === 0)
      environment.push(`environment: vitest exited ${live.vitestExit} without a failing test`);
  }
  const reasons = [...fail, ...inconclusive, ...environment];
  return { code: fail.length ? EXIT.controlFailed : inconclusive.length || environment.length ? EXIT.environment : EXIT.ok, reasons };
}

function summarizeIds(rs: ReadonlyArray<{ check: string; requirement: string }>): string {
  const ids = [...new Set(rs.map((r) => `${r.requirement} ${r.check}`))];
  return ids.length > 5 ? `${ids.slice(0, 5).join(', ')}, +${ids.length - 5} more` : ids.join(', ');
}
