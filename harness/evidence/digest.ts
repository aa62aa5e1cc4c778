import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Every file under `dir`, relative, `/`-separated, in byte order of the path (as `LC_ALL=C sort`). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** `{ path, sha256 }` of every file under `dir` except `exclude`. */
export function fileDigests(dir: string, exclude: readonly string[] = []): Array<{ path: string; sha256: string }> {
  return listFiles(dir)
    .filter((f) => !exclude.includes(f))
    .map((f) => ({ path: f, sha256: sha256File(join(dir, f)) }));
}

/**
 * One digest for a directory tree (the manifest set): sha256 of its
 * `sha256sum` listing, paths relative and byte-sorted. Reproduce it with
 * `cd DIR && find . -type f | sed 's,^\./,,' | LC_ALL=C sort | xargs sha256sum | sha256sum`.
 */
export function treeDigest(dir: string): string {
  const listing = fileDigests(dir)
    .map((f) => `${f.sha256}  ${f.path}\n`)
    .join('');
  return `sha256:${createHash('sha256').update(listing).digest('hex')}`;
}
