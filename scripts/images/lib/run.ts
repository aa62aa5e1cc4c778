/** Runs a command with its output appended to a log file; on failure the error carries the log tail. */
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";

export class CommandError extends Error {
  readonly logFile: string;
  constructor(message: string, logFile: string) {
    super(message);
    this.name = "CommandError";
    this.logFile = logFile;
  }
}

export function logTail(logFile: string, lines = 40): string {
  try {
    const all = readFileSync(logFile, "utf8").split("\n");
    return all.slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  /** Keep stdout out of the log (large binary/tar output). */
  quietStdout?: boolean;
}

/** Runs cmd, tees stdout+stderr into logFile, resolves with stdout. */
export function runLogged(logFile: string, cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  appendFileSync(logFile, `\n$ ${[cmd, ...args].map(shellQuote).join(" ")}${opts.cwd ? `   (in ${opts.cwd})` : ""}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    child.stdout?.on("data", (d: Buffer) => {
      out.push(d);
      if (!opts.quietStdout) appendFileSync(logFile, d);
    });
    child.stderr?.on("data", (d: Buffer) => appendFileSync(logFile, d));
    if (opts.input !== undefined && child.stdin) {
      child.stdin.end(opts.input);
    }
    child.on("error", (err) => reject(new CommandError(`${cmd}: ${err.message}`, logFile)));
    child.on("close", (code, signal) => {
      if (code === 0) {
        resolve(Buffer.concat(out).toString("utf8"));
        return;
      }
      const why = signal ? `killed by ${signal}` : `exit ${code}`;
      reject(new CommandError(`${cmd} ${args.slice(0, 3).join(" ")}… failed (${why})\n--- log tail (${logFile}) ---\n${logTail(logFile)}`, logFile));
    });
  });
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
