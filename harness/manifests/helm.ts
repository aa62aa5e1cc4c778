import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseRendered, type ChunkSource, type RenderedChunk } from './rendered.ts';
import { runRenderTool } from './render-tool.ts';
import type { LoadedObject } from './types.ts';

export interface HelmOptions {
  /** Release name for `helm template NAME DIR` (default: the chart directory's name). */
  release?: string;
  /** `--values FILE`, in order (later files win, as in helm). */
  values?: string[];
  /** `--namespace NS`: what `.Release.Namespace` renders as. */
  namespace?: string;
}

const SOURCE = /^# Source: (.+)$/;

/** `<chart>/templates/x.yaml` as helm prints it → path inside the chart dir (`templates/x.yaml`, `charts/sub/templates/y.yaml`). */
export function chartRelative(source: string): string {
  const i = source.indexOf('/');
  return i < 0 ? source : source.slice(i + 1);
}

/** Line of the nth top-level `kind:` of a template (the nth document it emits). */
function templateLine(templatePath: string, kind: string, nth: number): number {
  let lines: string[];
  try {
    lines = readFileSync(templatePath, 'utf8').split('\n');
  } catch {
    return 1;
  }
  const kindLines = lines.flatMap((l, i) => (/^kind:\s*/.test(l) ? [{ i, l }] : []));
  const named = kindLines.filter((k) => new RegExp(`^kind:\\s*['"]?${kind}['"]?\\s*(#.*)?$`).test(k.l));
  // A `range` emits more documents than the template has `kind:` lines: fall back to the first of the kind.
  const hit = kindLines[nth] ?? named[0] ?? kindLines[0];
  return hit ? hit.i + 1 : 1;
}

/**
 * Render a chart with the helm built here (`helm template`). Each document
 * helm prints follows a `# Source: chart/templates/x.yaml` comment: findings
 * point at that template, at the line of its nth `kind:` (a template is not
 * YAML until rendered, so a field's own line cannot be known).
 */
export function loadHelmChart(dirArg: string, opts: HelmOptions = {}, env: NodeJS.ProcessEnv = process.env): LoadedObject[] {
  const dir = resolve(dirArg);
  const args = ['template', opts.release ?? basename(dir), dir];
  if (opts.namespace) args.push('--namespace', opts.namespace);
  for (const v of opts.values ?? []) args.push('--values', v);
  const text = runRenderTool('helm', args, `helm template of ${dirArg}`, (printed) => {
    // helm names the template and line: "template: mychart/templates/x.yaml:12:3: executing ..."
    const m = /template: ([^:\s]+):(\d+)/.exec(printed);
    return m ? { file: chartRelative(m[1] as string), line: Number(m[2]) } : { file: 'Chart.yaml' };
  }, env);
  const lines = text.split('\n');
  const perTemplate = new Map<string, number>();
  const sourceOf = (chunk: RenderedChunk): ChunkSource | undefined => {
    const own = chunk.text.split('\n').find((l) => SOURCE.test(l));
    let src = own ? SOURCE.exec(own)?.[1] : undefined;
    // Without its own comment the chunk belongs to the nearest Source above it.
    for (let i = chunk.startLine - 2; !src && i >= 0; i--) src = SOURCE.exec(lines[i] ?? '')?.[1];
    if (!src) return undefined;
    const file = chartRelative(src);
    const kind = /^kind:\s*['"]?([A-Za-z]+)/m.exec(chunk.text)?.[1] ?? '';
    const nth = perTemplate.get(file) ?? 0;
    perTemplate.set(file, nth + 1);
    return { file, line: templateLine(join(dir, file), kind, nth) };
  };
  return parseRendered(text, `helm template of ${dirArg}`, sourceOf);
}
