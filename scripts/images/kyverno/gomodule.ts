/**
 * Go-module helpers shared by the addon recipes (kyverno, calico, signing,
 * server). Every upstream source comes from the Go module proxy through
 * `go mod download`, which checks the module zip against go.sum / the
 * checksum database; on top of that each recipe pins the module's h1: hash,
 * so a version the checksum database does not serve (our proxy mirror omits
 * some) is still verified against a recorded hash, never taken on trust.
 */
import { chmod, cp, mkdir, rm } from 'node:fs/promises';
import type { BuildContext } from '../recipe.ts';
import { goEnv, goVersion } from '../lib/go.ts';

export interface PinnedModule {
  module: string;
  version: string;
  /** The module zip's h1: hash, as go.sum records it. */
  sum: string;
}

export interface DownloadedModule extends PinnedModule {
  /** Read-only directory in the module cache. */
  dir: string;
}

interface GoModDownloadJson {
  Path?: string;
  Version?: string;
  Dir?: string;
  Sum?: string;
  Error?: string;
}

/** `go mod download -json mod@version`, then refuse anything whose hash differs from the pin. */
export async function downloadModule(ctx: BuildContext, pin: PinnedModule): Promise<DownloadedModule> {
  // GONOSUMDB only for this one module: its hash is checked against our pin below
  // instead, because the proxy mirror does not serve every checksum-database record.
  const out = await ctx.run('go', ['mod', 'download', '-json', `${pin.module}@${pin.version}`], {
    cwd: ctx.workDir,
    env: goEnv({ GONOSUMDB: pin.module, GOFLAGS: '-modcacherw -buildvcs=false' }),
  });
  const info = JSON.parse(out) as GoModDownloadJson;
  if (info.Error) throw new Error(`go mod download ${pin.module}@${pin.version}: ${info.Error}`);
  if (info.Sum !== pin.sum) {
    throw new Error(
      `${pin.module}@${pin.version}: downloaded hash ${info.Sum ?? '(none)'} differs from the pinned ${pin.sum}; ` +
        'the proxy served different content than the recipe was written for — do not build it; re-check the pin.',
    );
  }
  if (!info.Dir) throw new Error(`go mod download ${pin.module}@${pin.version} returned no directory`);
  return { ...pin, dir: info.Dir };
}

/** Copy a module out of the read-only module cache so `go build` can run inside it. */
export async function writableCopy(src: string, dest: string): Promise<string> {
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  await cp(src, dest, { recursive: true });
  await chmodTree(dest);
  return dest;
}

async function chmodTree(dir: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) await chmodTree(path);
    else if (entry.isFile()) await chmod(path, 0o644);
  }
}

export interface GoBuildOptions {
  cwd: string;
  /** Main packages, relative to cwd (./cmd/x) or full import paths. */
  packages: string[];
  /** Output file (one package) or directory ending in / (several). */
  output: string;
  ldflags?: string;
  tags?: string[];
  env?: Record<string, string>;
}

/**
 * Static, trimmed build at low priority (the 2 cores are shared). go.sum of the
 * module being built verifies every dependency; -mod=readonly refuses to edit it.
 */
export async function goBuild(ctx: BuildContext, opts: GoBuildOptions): Promise<void> {
  const args = ['-n', '10', 'go', 'build', '-mod=readonly', '-trimpath', '-ldflags', opts.ldflags ?? '-s -w'];
  if (opts.tags?.length) args.push('-tags', opts.tags.join(','));
  args.push('-o', opts.output, ...opts.packages);
  await ctx.run('nice', args, {
    cwd: opts.cwd,
    env: goEnv({ GOOS: 'linux', GOARCH: 'amd64', GOFLAGS: '-buildvcs=false', ...opts.env }),
  });
}

/** The modules actually linked into a binary (`go version -m`), for the supply-chain record. */
export async function modulesInBinary(ctx: BuildContext, binary: string): Promise<Array<{ module: string; version: string }>> {
  const out = await ctx.run('go', ['version', '-m', binary], { env: goEnv() });
  const modules: Array<{ module: string; version: string }> = [];
  for (const line of out.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if ((fields[0] === 'mod' || fields[0] === 'dep') && fields[1] && fields[2]) {
      modules.push({ module: fields[1], version: fields[2] });
    }
  }
  return modules;
}

/** The Go toolchain version: part of every Go recipe's cache key. */
export async function goToolchain(): Promise<string> {
  return `go toolchain ${goVersion()}`;
}
