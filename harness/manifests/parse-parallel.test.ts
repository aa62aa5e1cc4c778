import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InputError } from '../errors.ts';
import { REPO_ROOT } from '../cluster/paths.ts';
import { parseManifestText, toLoaded } from './load.ts';
import { documentChunks, parseFilesInParallel } from './parse-parallel.ts';

const MANIFESTS = join(REPO_ROOT, 'manifests');
function shippedFiles(): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(n)) out.push({ file: relative(MANIFESTS, p), text: readFileSync(p, 'utf8') });
    }
  };
  walk(MANIFESTS);
  return out;
}

/** A generated stream with comments, empty documents, block scalars holding "---" inside and flow maps. */
function generated(n: number): string {
  const docs: string[] = ['# leading comment\n'];
  for (let i = 0; i < n; i++) {
    docs.push(`---\n${stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'ns', labels: { i: String(i) } }, data: { script: `line one\n  --- not a marker\nlast ${i}\n`, n: String(i) } })}`);
    if (i % 7 === 0) docs.push('---\n# only a comment\n');
  }
  docs.push('---\n');
  return docs.join('');
}

const PATHS: Array<(string | number)[]> = [['metadata', 'name'], ['metadata', 'labels', 'i'], ['data', 'script'], ['spec'], ['rules', 0, 'level'], ['nope', 3]];

function sameAsSequential(files: Array<{ file: string; text: string }>, chunkBytes: number) {
  const seq = files.flatMap((f) => parseManifestText(f.text, f.file));
  const par = parseFilesInParallel(files, { workers: 2, chunkBytes }).flatMap((pf) => toLoaded(pf.docs, pf.file, pf.lineOf));
  expect(par.length).toBe(seq.length);
  seq.forEach((a, i) => {
    const b = par[i]!;
    expect(b.object).toEqual(a.object);
    expect(b.source).toEqual(a.source);
    for (const p of PATHS) expect(b.lineOf(p), `${a.source.file} doc ${a.source.doc} ${p.join('.')}`).toBe(a.lineOf(p));
  });
  return seq.length;
}

describe('the parallel YAML parse equals the sequential one', () => {
  it('on the shipped set, every file cut into many chunks: values, document index, lines, lineOf', () => {
    expect(sameAsSequential(shippedFiles(), 200)).toBeGreaterThan(50);
  });

  it('on a generated stream with empty documents, comment-only documents and "---" inside block scalars', () => {
    const text = generated(300);
    expect(documentChunks('g.yaml', text, 2_000).length).toBeGreaterThan(10);
    expect(sameAsSequential([{ file: 'g.yaml', text }, { file: 'h.yaml', text: generated(20) }], 2_000)).toBe(320);
  });

  it('throws the error the sequential loop throws first, with its file and line', () => {
    const good = generated(50);
    const bad = `${generated(10)}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n`;
    const seqError = (() => {
      try {
        for (const f of [{ file: 'a.yaml', text: good }, { file: 'b.yaml', text: bad }, { file: 'c.yaml', text: bad }]) parseManifestText(f.text, f.file);
      } catch (e) {
        return e as InputError;
      }
      return undefined;
    })();
    expect(seqError).toBeInstanceOf(InputError);
    let parError: unknown;
    try {
      parseFilesInParallel([{ file: 'a.yaml', text: good }, { file: 'b.yaml', text: bad }, { file: 'c.yaml', text: bad }], { workers: 2, chunkBytes: 500 });
    } catch (e) {
      parError = e;
    }
    expect(parError).toBeInstanceOf(InputError);
    expect({ file: (parError as InputError).file, line: (parError as InputError).line, message: (parError as InputError).message }).toEqual({ file: seqError!.file, line: seqError!.line, message: seqError!.message });
  });

  it('does not cut a stream that has directives', () => {
    expect(documentChunks('d.yaml', `%YAML 1.2\n${generated(100)}`, 100)).toHaveLength(1);
  });
});
