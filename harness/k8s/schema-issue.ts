/** One schema violation, located by a path into the object (as the loader's lineOf expects). */
export interface SchemaIssue {
  /** Path segments into the object: strings for keys, numbers for list indexes. */
  path: (string | number)[];
  /** What is wrong, in the validator's words (e.g. "must be array", "unknown field"). */
  message: string;
}

/** ajv's error shape, the part the harness reads (kubernetes-models and our own ajv share it). */
export interface AjvLikeError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * Turn a JSON pointer (`/spec/ingress/0/ports`) into path segments, with
 * list indexes as numbers where the data holds a list at that point (so the
 * YAML line lookup addresses sequence items).
 */
export function pointerToPath(pointer: string, data: unknown): (string | number)[] {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

/** Human path for messages: `spec.ingress[0].ports`. */
export function dottedPath(path: (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s || '(document)';
}

/** ajv errors → issues. Collapses the noise ajv emits for anyOf/oneOf branches to the branch summary. */
export function fromAjvErrors(errors: readonly AjvLikeError[], data: unknown): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const path = pointerToPath(e.instancePath, data);
    let message = e.message ?? e.keyword;
    if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      path.push(e.params.additionalProperty);
      message = `unknown field "${e.params.additionalProperty}"`;
    } else if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) {
      message = `must be one of ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const key = `${dottedPath(path)}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
  }
  return out;
}
