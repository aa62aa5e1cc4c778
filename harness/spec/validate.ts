import { InputError } from '../errors.ts';
import { specIssues } from './schemas.ts';
import type { LoadedObject } from '../manifests/types.ts';
import { SPEC_API_VERSION } from './types.ts';

/**
 * The harness's own declarations are its input, not findings: a malformed
 * FlowTable or AccessTable would make every analyzer misread the set, so it
 * is bad input (exit 2) with file, line and field, before any analysis runs.
 */
export function assertSpecDocumentsValid(objects: LoadedObject[]): void {
  for (const o of objects) {
    if (o.object.apiVersion !== SPEC_API_VERSION) continue;
    const issue = specIssues(o.object)[0];
    if (!issue) continue;
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
    throw new InputError(`${o.object.kind} ${o.object.metadata.name}: ${field || '(document)'} ${issue.message}`, {
      file: o.source.file,
      line: o.lineOf(issue.path),
      hint: 'fix the declaration to match the format in harness/spec/types.ts (see manifests/README.md)',
    });
  }
}
