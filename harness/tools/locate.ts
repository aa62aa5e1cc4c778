import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The harness's persistent cache root: `$PCI_HARNESS_CACHE` or `~/.cache/pci-harness` (same rule as the image builder). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PCI_HARNESS_CACHE || join(homedir(), '.cache', 'pci-harness');
}

/** Where built binaries land: `<cache>/bin`. */
export function cacheBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'bin');
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable `name` on PATH, or undefined. */
export function whichOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

export interface Located {
  path: string;
  /** Which rule found it: flag, env, cache, path. Reported so a user knows which binary ran. */
  via: 'flag' | 'env' | 'cache' | 'path';
}

export interface LocateRequest {
  /** Binary name in the cache bin dir and on PATH. */
  name: string;
  /** Explicit path from a CLI flag. When given it must exist: a typo must not fall back silently. */
  explicit?: string;
  /** Environment variable naming the binary, e.g. PCI_HARNESS_KYVERNO. */
  envVar: string;
}

export type LocateResult = { found: Located } | { missing: string[] };

/**
 * Find an external binary: explicit flag, then `$ENV`, then the cache bin
 * dir, then PATH. An explicit path or env value that is not executable is a
 * miss (reported with what was tried), never a silent fallback.
 */
export function locateBinary(req: LocateRequest, env: NodeJS.ProcessEnv = process.env): LocateResult {
  const tried: string[] = [];
  if (req.explicit !== undefined) {
    if (isExecutableFile(req.explicit)) return { found: { path: req.explicit, via: 'flag' } };
    return { missing: [`${req.explicit} (from the command-line flag: not an executable file)`] };
  }
  const fromEnv = env[req.envVar];
  if (fromEnv) {
    if (isExecutableFile(fromEnv)) return { found: { path: fromEnv, via: 'env' } };
    return { missing: [`${fromEnv} (from $${req.envVar}: not an executable file)`] };
  }
  tried.push(`$${req.envVar} (unset)`);
  const cached = join(cacheBinDir(env), req.name);
  if (isExecutableFile(cached)) return { found: { path: cached, via: 'cache' } };
  tried.push(cached);
  const onPath = whichOnPath(req.name, env);
  if (onPath) return { found: { path: onPath, via: 'path' } };
  tried.push(`${req.name} on PATH`);
  return { missing: tried };
}
