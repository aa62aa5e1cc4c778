/**
 * Exit codes, documented in the README. CI branches on them, so they never change meaning.
 */
export const EXIT = {
  /** Every control holds (check) / every scenario passed (run). */
  ok: 0,
  /** At least one control failed; the output names requirement, object, file and line. */
  controlFailed: 1,
  /** Bad input or usage: malformed YAML, unknown kind, unknown flag... Fix the input. */
  badInput: 2,
  /** The environment failed (Docker down, image build failed, cluster did not boot): not a verdict on the manifests. */
  environment: 3,
  /** Interrupted by SIGINT / SIGTERM (128 + signal number), after cleanup. */
  sigint: 130,
  sigterm: 143,
} as const;
