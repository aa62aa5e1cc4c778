import { InputError } from '../errors.ts';
import { parseManifestText } from './load.ts';
import type { LoadedObject } from './types.ts';

/** One document of a render tool's output, with the 1-based line it starts on in that output. */
export interface RenderedChunk {
  text: string;
  startLine: number;
  index: number;
}

/** Where a rendered document came from in the user's files. */
export interface ChunkSource {
  file: string;
  line: number;
  /** Map a path inside the object to a line of `file`; undefined = the document line. */
  lineOf?: (path: (string | number)[]) => number | undefined;
}

/** Split tool output (kubectl kustomize, helm template) on its `---` separators. */
export function splitRendered(text: string): RenderedChunk[] {
  const lines = text.split('\n');
  const out: RenderedChunk[] = [];
  let start = 0;
  const flush = (end: number) => {
    const body = lines.slice(start, end).join('\n');
    if (body.trim()) out.push({ text: body, startLine: start + 1, index: out.length });
  };
  lines.forEach((l, i) => {
    if (/^---\s*$/.test(l)) {
      flush(i);
      start = i + 1;
    }
  });
  flush(lines.length);
  return out;
}

/**
 * Parse rendered output document by document, so every object (and every
 * error: unknown kind, missing name) points at the source file the tool
 * says it came from rather than at a line of output nobody can open.
 * `label` names the render when no source is known, e.g. `kustomize build of overlay/`.
 */
export function parseRendered(text: string, label: string, sourceOf: (chunk: RenderedChunk) => ChunkSource | undefined): LoadedObject[] {
  const out: LoadedObject[] = [];
  for (const chunk of splitRendered(text)) {
    const src = sourceOf(chunk);
    const file = src?.file ?? label;
    const offset = chunk.startLine - 1;
    let objects: LoadedObject[];
    try {
      objects = parseManifestText(chunk.text, file);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      const line = src ? src.line : e.line !== undefined ? e.line + offset : undefined;
      throw new InputError(`${e.message}${src ? ` (in the output of ${label})` : ''}`, { file, ...(line !== undefined ? { line } : {}), ...(e.hint ? { hint: e.hint } : {}) });
    }
    for (const o of objects) {
      if (!src) {
        const inner = o.lineOf;
        out.push({ object: o.object, source: { file, line: o.source.line + offset, doc: chunk.index }, lineOf: (p) => inner(p) + offset });
        continue;
      }
      const { line, lineOf } = src;
      out.push({ object: o.object, source: { file, line, doc: chunk.index }, lineOf: (p) => lineOf?.(p) ?? line });
    }
  }
  return out;
}
