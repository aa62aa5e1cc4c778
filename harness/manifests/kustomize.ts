import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseRendered, type ChunkSource, type RenderedChunk } from './rendered.ts';
import { runRenderTool } from './render-tool.ts';
import { matchSourceDoc, sourceDocs, type SourceDoc } from './source-lines.ts';
import type { LoadedObject } from './types.ts';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const ORIGIN = 'config.kubernetes.io/origin';

export function kustomizationFile(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.find((f) => existsSync(join(dir, f)));
}

/**
 * Render a Kustomize directory with the kustomize kubectl carries. To learn
 * which file each object came from, the directory is wrapped in a throw-away
 * kustomization (in a temp dir, never in the user's tree) with
 * `buildMetadata: [originAnnotations]`: kustomize then annotates each object
 * with `config.kubernetes.io/origin` (its resource file, or the
 * kustomization whose generator made it). The annotation is removed again
 * before analysis. On failure the plain `kubectl kustomize DIR` is re-run so
 * the user sees the error about their own paths, as kustomize prints it.
 */
export function loadKustomize(dirArg: string, env: NodeJS.ProcessEnv = process.env): LoadedObject[] {
  const dir = resolve(dirArg);
  const kfile = kustomizationFile(dir) ?? 'kustomization.yaml';
  const wrapper = mkdtempSync(join(tmpdir(), 'pci-kustomize-'));
  let text: string;
  try {
    writeFileSync(join(wrapper, 'kustomization.yaml'), `resources:\n  - ${JSON.stringify(relative(wrapper, dir))}\nbuildMetadata: [originAnnotations]\n`);
    try {
      text = runRenderTool('kubectl', ['kustomize', wrapper], 'kustomize', () => ({}), env);
    } catch {
      // The user's own render, for the user's own error message (and if it succeeds after all, its output without origins).
      text = runRenderTool('kubectl', ['kustomize', dir], `kustomize build of ${dirArg}`, () => ({ file: kfile }), env);
    }
  } finally {
    rmSync(wrapper, { recursive: true, force: true });
  }
  const docsByFile = new Map<string, SourceDoc[]>();
  const kindCount = new Map<string, number>();
  const sourceOf = (chunk: RenderedChunk): ChunkSource | undefined => {
    let obj: { kind?: unknown; metadata?: { name?: unknown; annotations?: Record<string, unknown> } };
    try {
      obj = parse(chunk.text) ?? {};
    } catch {
      return undefined;
    }
    const originText = obj.metadata?.annotations?.[ORIGIN];
    if (typeof originText !== 'string') return undefined;
    const origin = (parse(originText) ?? {}) as { path?: string; configuredIn?: string };
    const from = origin.path ?? origin.configuredIn;
    if (!from) return undefined;
    const abs = resolve(wrapper, from);
    const file = relative(dir, abs) || kfile;
    if (origin.path === undefined) return { file, line: 1 }; // a generator: the kustomization that configures it
    const docs = docsByFile.get(abs) ?? sourceDocs(abs);
    docsByFile.set(abs, docs);
    const kind = String(obj.kind ?? '');
    const key = `${abs}\u0000${kind}`;
    const nth = kindCount.get(key) ?? 0;
    kindCount.set(key, nth + 1);
    const d = matchSourceDoc(docs, kind, String(obj.metadata?.name ?? ''), nth);
    return d ? { file, line: d.line, lineOf: d.lineOf } : { file, line: 1 };
  };
  const objects = parseRendered(text, `kustomize build of ${dirArg}`, sourceOf);
  for (const o of objects) {
    const ann = o.object.metadata.annotations;
    if (ann && ORIGIN in ann) {
      delete ann[ORIGIN];
      if (Object.keys(ann).length === 0) delete o.object.metadata.annotations;
    }
  }
  return objects;
}
