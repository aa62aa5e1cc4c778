import { describe, expect, it } from 'vitest';
import { InputError } from '../../harness/errors.ts';
import { vitestArgs } from './run.ts';
import { relative, sep } from 'node:path';
import { REPO_ROOT } from './paths.ts';
import { filterArgs, HEAVY_LIVE_FILES, liveFiles, parseShard, shardFiles, shardName, slices } from './shard.ts';

describe('run --shard i/n: the split of the live files', () => {
  it('reads the live files from vitest.config.ts (the matrix among them)', async () => {
    const files = await liveFiles();
    expect(files.length).toBeGreaterThan(5);
    expect(files).toEqual(expect.arrayContaining(HEAVY_LIVE_FILES));
    expect(files.every((f) => /^suites\/live\/.*\.test\.ts$/.test(f))).toBe(true);
    expect(files.some((f) => f.startsWith('suites/live-harness/'))).toBe(false); // harness self-tests are not evidence
  });

  it('is a partition for every n: each file in exactly one slice, none empty, the heavy file alone', async () => {
    const files = await liveFiles();
    for (let n = 1; n <= files.length; n++) {
      const s = slices(files, n);
      expect(s).toHaveLength(n);
      expect(s.flat().sort()).toEqual([...files].sort());
      expect(new Set(s.flat()).size).toBe(files.length);
      expect(s.every((x) => x.length > 0), `n=${n}`).toBe(true);
      if (n >= 2) expect(s[0]).toEqual(HEAVY_LIVE_FILES);
    }
  });

  it('is deterministic: the same slices whatever order the files are listed in', async () => {
    const files = await liveFiles();
    expect(slices([...files].reverse(), 3)).toEqual(slices(files, 3));
    expect(slices(['c', 'a', 'b', 'd', 'e'], 2, [])).toEqual([['a', 'b', 'c'], ['d', 'e']]);
  });

  it('usage errors: a malformed shard, an empty slice', async () => {
    for (const bad of ['0/3', '4/3', '1/0', 'a/b', '1-3']) expect(() => parseShard(bad), bad).toThrow(InputError);
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    const files = await liveFiles();
    expect(() => shardFiles(files, { index: files.length + 1, count: files.length + 1 })).toThrow(new RegExp(`slice ${files.length + 1} is empty`));
  });

  it('vitest gets absolute paths of exactly the shard files (a filter matches every path containing it)', async () => {
    const files = shardFiles(await liveFiles(), { index: 2, count: 3 });
    const args = vitestArgs('/tmp/out', files);
    expect(args.slice(-files.length)).toEqual(files.map((f) => expect.stringMatching(new RegExp(`^/.*/${f.replace(/[./]/g, '\\$&')}$`))));
    expect(vitestArgs('/tmp/out').some((a) => a.endsWith('.test.ts'))).toBe(false); // unsharded: every live file
    // vitest keeps a file when an absolute filter is a prefix of it or the relative filter a substring: no live path may contain another.
    const all = await liveFiles();
    for (const a of all) expect(all.filter((b) => b.includes(a)), a).toEqual([a]);
  });

  it('vitest itself selects exactly each shard\'s files from those arguments (its own globbing and filter; nothing is run)', async () => {
    const { createVitest } = await import('vitest/node');
    const all = await liveFiles();
    const v = await createVitest('test', { project: ['live'], watch: false, root: REPO_ROOT });
    try {
      const seen: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const files = shardFiles(all, { index: i, count: 3 });
        const picked = (await v.globTestSpecifications(filterArgs(files))).map((s) => relative(REPO_ROOT, s.moduleId).split(sep).join('/'));
        expect(picked.sort(), `shard ${i}/3`).toEqual([...files].sort());
        seen.push(...picked);
      }
      expect(seen.sort()).toEqual([...all].sort());
    } finally {
      await v.close();
    }
  }, 60_000);

  it('names a shard by CNI and slice', () => {
    expect(shardName({ index: 1, count: 3 }, 'Calico v3.30.1')).toBe('calico-shard-1-of-3');
    expect(shardName({ index: 2, count: 2 })).toBe('shard-2-of-2');
  });
});
