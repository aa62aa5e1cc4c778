import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseAllDocuments } from 'yaml';

/** One document of a source file, located loosely: enough to point a finding at its line. */
export interface SourceDoc {
  kind?: string;
  name?: string;
  line: number;
  /** Line of a path inside the document (its nearest ancestor the source has, as for a field a patch added), or undefined. */
  lineOf(path: (string | number)[]): number | undefined;
}

/**
 * The documents of a file the render tool read (a Kustomize resource). No
 * validation: the rendered output is what is checked; this only maps lines
 * back. An unreadable or malformed file maps nothing.
 */
export function sourceDocs(path: string): SourceDoc[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  if (!Array.isArray(docs)) return [];
  const lineAt = (offset: number) => lc.linePos(offset).line;
  const out: SourceDoc[] = [];
  for (const doc of docs) {
    if (doc.errors.length || !doc.contents || !isNode(doc.contents) || !doc.contents.range) continue;
    const get = (p: (string | number)[]) => {
      try {
        return doc.getIn(p);
      } catch {
        return undefined;
      }
    };
    const kind = get(['kind']);
    const name = get(['metadata', 'name']);
    out.push({
      ...(typeof kind === 'string' ? { kind } : {}),
      ...(typeof name === 'string' ? { name } : {}),
      line: lineAt(doc.contents.range[0]),
      lineOf(p) {
        for (let n = p.length; n > 0; n--) {
          const node = doc.getIn(p.slice(0, n), true);
          if (isNode(node) && node.range) return lineAt(node.range[0]);
        }
        return undefined;
      },
    });
  }
  return out;
}

/** The source document a rendered object came from: same kind and name, else the nth of its kind, else the first. */
export function matchSourceDoc(docs: SourceDoc[], kind: string, name: string, nthOfKind: number): SourceDoc | undefined {
  return docs.find((d) => d.kind === kind && d.name === name) ?? docs.filter((d) => d.kind === kind)[nthOfKind] ?? docs[0];
}
