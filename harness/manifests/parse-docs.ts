import { LineCounter, parseAllDocuments, isNode, type Document } from 'yaml';
import { InputError } from '../errors.ts';

/**
 * One YAML stream → its documents' values, with where each sits in the text.
 * The only parser of the loader: the sequential path keeps each parsed
 * Document for file:line lookups; the parallel path (parse-parallel.ts) runs
 * this in worker threads without them and re-parses a single document's
 * slice when a line is asked for. Imports nothing but `yaml` (workers load it).
 */
export interface ParsedDoc {
  value: unknown;
  /** 0-based index of the document within its file. */
  index: number;
  /** 1-based line of the document's contents. */
  docLine: number;
  /** The document's own text: from the start of its first line to its end (offsets into the file's text). */
  sliceStart: number;
  sliceEnd: number;
  /** 1-based line at sliceStart. */
  sliceLine: number;
  /** The parsed Document (sequential path only). */
  doc?: Document.Parsed;
}

export interface ParseOptions {
  /** Keep each Document (for lineOf without re-parsing). */
  keepDocuments: boolean;
  /** Offsets and lines of `text` inside a larger file (a chunk of it): added to every position. */
  offset?: number;
  lineOffset?: number;
  /** Index of the chunk's first document within the file. */
  indexOffset?: number;
}

export const PARSE_OPTIONS = { prettyErrors: false, uniqueKeys: true } as const;

export function parseDocuments(text: string, file: string, opts: ParseOptions): { docs: ParsedDoc[]; lineAt: (pos: number) => number } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, ...PARSE_OPTIONS });
  const lineOffset = opts.lineOffset ?? 0;
  const offset = opts.offset ?? 0;
  const lineAt = (pos: number) => lineCounter.linePos(pos).line + lineOffset;
  // An empty stream parses to an EmptyStream: no documents.
  if (!Array.isArray(docs)) return { docs: [], lineAt };
  const lineStart = (pos: number) => text.lastIndexOf('\n', pos - 1) + 1;
  const out: ParsedDoc[] = [];
  docs.forEach((doc: Document.Parsed, i) => {
    const err = doc.errors[0];
    if (err) {
      throw new InputError(`malformed YAML: ${err.message.split('\n')[0]}`, { file, line: lineAt(err.pos[0]), hint: 'fix the YAML syntax (indentation, quoting, duplicate keys)' });
    }
    const docLine = doc.contents && isNode(doc.contents) && doc.contents.range ? lineAt(doc.contents.range[0]) : 1 + lineOffset;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new InputError(`YAML cannot be converted to data: ${(e as Error).message.split('\n')[0]}`, { file, line: docLine });
    }
    const start = lineStart(doc.range[0]);
    out.push({ value, index: i + (opts.indexOffset ?? 0), docLine, sliceStart: start + offset, sliceEnd: doc.range[2] + offset, sliceLine: lineAt(start), ...(opts.keepDocuments ? { doc } : {}) });
  });
  return { docs: out, lineAt };
}

/** file:line of the node at `path` (or its closest existing parent) in a parsed Document. */
export function lineOfPath(doc: Document.Parsed, lineAt: (pos: number) => number, path: (string | number)[], fallback: number): number {
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lineAt(node.range[0]);
  }
  return fallback;
}

/** Re-parse one document's slice (parallel path) and answer lineOf from it, lines counted from the file's start. */
export function lazyLineOf(text: string, p: ParsedDoc): (path: (string | number)[]) => number {
  let cached: { doc: Document.Parsed; lineAt: (pos: number) => number } | undefined;
  return (path) => {
    if (!cached) {
      const lineCounter = new LineCounter();
      const doc = parseAllDocuments(text.slice(p.sliceStart, p.sliceEnd), { lineCounter, ...PARSE_OPTIONS });
      const first = Array.isArray(doc) ? doc[0] : undefined;
      if (!first) return p.docLine;
      cached = { doc: first, lineAt: (pos) => lineCounter.linePos(pos).line + p.sliceLine - 1 };
    }
    return lineOfPath(cached.doc, cached.lineAt, path, p.docLine);
  };
}
