import { execa, type ResultPromise } from 'execa';

/**
 * Every external command (kind, docker, kubectl) goes through here so that an
 * interrupt can kill what is running. Children run in their own process group
 * (detached) and are killed as a group: killing `kind` alone would leave its
 * `docker run` children creating containers after cleanup has swept.
 */
const running = new Set<ResultPromise>();

export interface RunOptions {
  input?: string | Buffer;
  /** Stream this file to stdin (large image tarballs). */
  inputFile?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Milliseconds before the command is killed (default: none). */
  timeoutMs?: number;
  /** Don't throw on non-zero exit; the caller inspects exitCode. */
  reject?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Last lines of a command's output, for error messages (full output can be huge). */
export function tail(text: string, lines = 15): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export class CommandError extends Error {
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(what: string, exitCode: number | undefined, stderr: string, stdout: string) {
    const out = tail(stderr || stdout);
    super(`${what} exited ${exitCode ?? '(killed)'}${out ? `:\n${out}` : ''}`);
    this.name = 'CommandError';
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = execa(cmd, args, {
    ...(opts.inputFile ? { inputFile: opts.inputFile } : { input: opts.input }),
    env: opts.env,
    cwd: opts.cwd,
    timeout: opts.timeoutMs,
    reject: false,
    detached: true,
    stripFinalNewline: true,
  });
  running.add(child);
  try {
    const r = await child;
    const result = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? -1 };
    if (r.timedOut) throw new CommandError(`${cmd} ${args[0] ?? ''} (timed out after ${opts.timeoutMs} ms)`, r.exitCode, result.stderr, result.stdout);
    if (opts.reject !== false && result.exitCode !== 0) {
      // Name the command and subcommand only: arguments can be long and are in the step name anyway.
      throw new CommandError(`${cmd} ${args.slice(0, 2).join(' ')}`, r.exitCode, result.stderr, result.stdout);
    }
    return result;
  } finally {
    running.delete(child);
  }
}

/** Kill every running child's whole process group (SIGKILL): used on interrupt before cleanup. */
export function killAllChildren(): void {
  for (const child of running) {
    if (child.pid === undefined) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Number of commands in flight (tests use it to prove the interrupt path waits for nothing). */
export function runningCount(): number {
  return running.size;
}
