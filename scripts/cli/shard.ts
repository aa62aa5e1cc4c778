import { globSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../harness/errors.ts';
import { REPO_ROOT } from './paths.ts';

/**
 * `pci-harness run --shard i/n`: the live project's test files split into n
 * slices, deterministically, so n CI jobs (each with its own cluster) run
 * them in parallel and `pci-harness merge` makes one package of them.
 * Files the live lane spends most of its time in (HEAVY) each get a slice of
 * their own; the rest, sorted by path, are dealt in contiguous runs over the
 * remaining slices. Every file is in exactly one slice.
 */
export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** Files that get a slice of their own (the full reachability matrix is ~75 s of a ~90 s live lane). */
export const HEAVY_LIVE_FILES = ['suites/live/scenarios/lateral-matrix.test.ts'];

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new InputError(`--shard "${text}" is not i/n with 1 <= i <= n`, { hint: 'e.g. --shard 1/3 runs the first of three slices of the live files' });
  return { index, count };
}

/** The `live` project's include globs, read from vitest.config.ts (the one place they are declared). */
export async function liveIncludes(): Promise<string[]> {
  const config = (await import('../../vitest.config.ts')).default as { test?: { projects?: Array<{ test?: { name?: string; include?: string[] } }> } };
  const live = config.test?.projects?.find((p) => p.test?.name === 'live');
  if (!live?.test?.include?.length) throw new Error('vitest.config.ts has no project "live" with include globs');
  return live.test.include;
}

/** Every live file, relative to the repository, in byte order. */
export async function liveFiles(root = REPO_ROOT): Promise<string[]> {
  const files = new Set((await liveIncludes()).flatMap((g) => globSync(g, { cwd: root })));
  return [...files].map((f) => f.split('\\').join('/')).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** The n slices of `files` (sorted), heavy files alone where n allows. */
export function slices(files: readonly string[], count: number, heavy: readonly string[] = HEAVY_LIVE_FILES): string[][] {
  const sorted = [...new Set(files)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  // Heavy files alone only while at least one slice is left for the rest.
  const alone = sorted.filter((f) => heavy.includes(f)).slice(0, Math.max(0, count - 1));
  const rest = sorted.filter((f) => !alone.includes(f));
  const out: string[][] = alone.map((f) => [f]);
  const left = count - alone.length;
  for (let i = 0, start = 0; i < left; i++) {
    const size = Math.floor(rest.length / left) + (i < rest.length % left ? 1 : 0);
    out.push(rest.slice(start, start + size));
    start += size;
  }
  return out;
}

/** The files of one shard; refuses a shard that would be empty (a job that proves nothing). */
export function shardFiles(files: readonly string[], shard: Shard): string[] {
  const all = slices(files, shard.count);
  const mine = all[shard.index - 1] ?? [];
  if (!mine.length) throw new InputError(`--shard ${shard.index}/${shard.count}: slice ${shard.index} is empty (${files.length} live files for ${shard.count} slices)`, { hint: `use at most ${files.length} slices` });
  return mine;
}

/**
 * Absolute paths for vitest's file filter. vitest (filterTestFiles) keeps a file
 * when an absolute filter is a prefix of its path or the filter's relative form
 * is a substring of its relative path: exact as long as no live file's path
 * contains another's (shard.test.ts checks that).
 */
export const filterArgs = (files: readonly string[], root = REPO_ROOT) => files.map((f) => join(root, f));

/** Directory name of a shard inside a merged package: `calico-shard-1-of-3`. */
export function shardName(shard: Shard, cni?: string): string {
  // The CNI's name without its version ("Calico v3.30.1" → calico): one matrix column per CNI.
  const base = cni?.split(/\s+/)[0]?.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const prefix = base ? `${base}-` : '';
  return `${prefix}shard-${shard.index}-of-${shard.count}`;
}
