import { parseAllDocuments } from 'yaml';

/** Every `image:` reference in a multi-document manifest (for "only images we built" checks). */
export function imagesIn(manifest: string): string[] {
  const refs = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'image' && typeof v === 'string') refs.add(v);
        else visit(v);
      }
    }
  };
  for (const doc of parseAllDocuments(manifest)) visit(doc.toJS());
  return [...refs];
}
