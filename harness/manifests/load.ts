import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { lineOfPath, parseDocuments, type ParsedDoc } from './parse-docs.ts';
import { PARALLEL_MIN_BYTES, parseFilesInParallel } from './parse-parallel.ts';
import { InputError } from '../errors.ts';
import {
  BUILTIN_NAMESPACES,
  CLUSTER_SCOPED_KINDS,
  FILE_CONFIG_API_VERSIONS,
  isKnownKind,
} from './kinds.ts';
import type { K8sObject, LoadedObject, ManifestSet } from './types.ts';
import { assertSpecDocumentsValid } from '../spec/validate.ts';
import { applyDefaultNamespace } from './namespace.ts';

/** How a set is read: `namespace` is `kubectl apply -n`'s default for namespaced objects that name none. */
export interface LoadOptions {
  namespace?: string;
}

const YAML_FILE = /\.ya?ml$/i;

/** Every YAML file under dir, sorted so results are stable. Dotfiles and dot-directories are skipped. */
function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && YAML_FILE.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function looksBinary(buf: Buffer): boolean {
  if (buf.includes(0)) return true;
  // Invalid UTF-8 turns into U+FFFD on decoding.
  return buf.toString('utf8').includes('\uFFFD');
}

/** Parse one file's text into loaded objects. Exported for the fuzz test and for in-memory sets. */
export function parseManifestText(text: string, file: string): LoadedObject[] {
  const { docs, lineAt } = parseDocuments(text, file, { keepDocuments: true });
  return toLoaded(docs, file, (p) => (path) => lineOfPath(p.doc!, lineAt, path, p.docLine));
}

/** Parsed documents → loaded objects (empty documents dropped), with how each answers lineOf. */
export function toLoaded(docs: readonly ParsedDoc[], file: string, lineOf: (p: ParsedDoc) => LoadedObject['lineOf']): LoadedObject[] {
  const out: LoadedObject[] = [];
  for (const p of docs) {
    if (p.value === null || p.value === undefined) continue; // empty document (e.g. a trailing ---)
    out.push({ object: asObject(p.value, file, p.docLine), source: { file, line: p.docLine, doc: p.index }, lineOf: lineOf(p) });
  }
  return out;
}

function asObject(value: unknown, file: string, line: number): K8sObject {
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError('document is not a mapping (expected a Kubernetes object with apiVersion, kind, metadata)', { file, line });
  }
  const o = value as Record<string, unknown>;
  for (const field of ['apiVersion', 'kind'] as const) {
    if (typeof o[field] !== 'string' || o[field] === '') {
      throw new InputError(`document has no ${field}`, { file, line, hint: `every document needs a string "${field}:"` });
    }
  }
  const apiVersion = o.apiVersion as string;
  const kind = o.kind as string;
  if (!isKnownKind(apiVersion, kind)) {
    throw new InputError(`unknown kind ${kind} (apiVersion ${apiVersion})`, {
      file,
      line,
      hint: 'check the spelling of apiVersion and kind; the harness cannot prove a control it does not understand',
    });
  }
  const meta = o.metadata;
  // Component config files (EncryptionConfiguration, audit Policy, kind Cluster) usually carry no metadata.
  if (FILE_CONFIG_API_VERSIONS.has(apiVersion) && meta === undefined) {
    o.metadata = { name: `${kind.toLowerCase()}@${file}` };
  } else if (typeof meta !== 'object' || meta === null || typeof (meta as { name?: unknown }).name !== 'string') {
    throw new InputError(`${kind} has no metadata.name`, { file, line, hint: 'add metadata: { name: ... }' });
  }
  return o as K8sObject;
}

/** Cross-document checks: duplicates and namespaces that the set never creates. */
function validateSet(objects: LoadedObject[]): void {
  assertSpecDocumentsValid(objects);
  const seen = new Map<string, LoadedObject>();
  const created = new Set(objects.filter((o) => o.object.kind === 'Namespace').map((o) => o.object.metadata.name));
  for (const o of objects) {
    const { apiVersion, kind, metadata } = o.object;
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    const key = `${group}/${kind}/${metadata.namespace ?? ''}/${metadata.name}`;
    const prev = seen.get(key);
    if (prev) {
      throw new InputError(`duplicate object ${kind} ${metadata.namespace ? `${metadata.namespace}/` : ''}${metadata.name}`, {
        file: o.source.file,
        line: o.source.line,
        hint: `first defined at ${prev.source.file}:${prev.source.line}; remove or rename one`,
      });
    }
    seen.set(key, o);
    if (FILE_CONFIG_API_VERSIONS.has(apiVersion)) continue;
    const ns = metadata.namespace;
    if (CLUSTER_SCOPED_KINDS.has(kind)) continue;
    if (ns === undefined) {
      throw new InputError(`${kind} ${metadata.name} has no metadata.namespace`, {
        file: o.source.file,
        line: o.source.line,
        hint: 'set metadata.namespace, or pass --namespace NS to give every namespaced object without one that namespace (as `kubectl apply -n NS` does)',
      });
    }
    if (!created.has(ns) && !BUILTIN_NAMESPACES.has(ns)) {
      throw new InputError(`${kind} ${metadata.name} is in namespace "${ns}", which the set never creates`, {
        file: o.source.file,
        line: o.lineOf(['metadata', 'namespace']),
        hint: `add a Namespace "${ns}" to the set or fix the namespace`,
      });
    }
  }
}

/** Read and validate every YAML document under dir. Throws InputError (exit 2) on anything a person must fix. */
export function loadManifestDir(dirArg: string, options: LoadOptions = {}): ManifestSet {
  const { dir, objects } = readYamlDir(dirArg);
  return assembleSet(dir, objects, options);
}

/**
 * Parse every YAML document under dir, without the cross-document checks
 * (assembleSet does those once the whole set is known). `relativeTo` is the
 * directory file names are reported against (default: dir itself).
 */
export function readYamlDir(dirArg: string, relativeTo?: string): { dir: string; objects: LoadedObject[] } {
  const dir = resolve(dirArg);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new InputError(`manifest directory not found: ${dirArg}`, { hint: 'pass --manifests DIR with an existing directory' });
  }
  if (!isDir) throw new InputError(`not a directory: ${dirArg}`, { hint: 'pass --manifests DIR with a directory of YAML files' });
  const files = yamlFiles(dir).map((path) => ({ file: relative(relativeTo ?? dir, path), buf: readFileSync(path) }));
  const bytes = files.reduce((n, f) => n + f.buf.length, 0);
  const objects: LoadedObject[] = [];
  // PCI_HARNESS_YAML_THREADS: 1 = always sequential, N = N parser threads (default: one per core, at most 8).
  const threads = Number(process.env.PCI_HARNESS_YAML_THREADS ?? 0);
  if (bytes >= PARALLEL_MIN_BYTES && threads !== 1 && !files.some((f) => looksBinary(f.buf))) {
    // A platform-sized set: the YAML parse on every core (same parser, same results).
    const parsed = parseFilesInParallel(files.map((f) => ({ file: f.file, text: f.buf.toString('utf8') })), threads > 1 ? { workers: threads } : {});
    for (const pf of parsed) objects.push(...toLoaded(pf.docs, pf.file, pf.lineOf));
  } else {
    for (const { file, buf } of files) {
      if (looksBinary(buf)) {
        throw new InputError('binary file (not UTF-8 YAML)', { file, line: 1, hint: 'remove it from the manifest directory' });
      }
      objects.push(...parseManifestText(buf.toString('utf8'), file));
    }
  }
  if (objects.length === 0) {
    throw new InputError(`no YAML documents under ${dirArg}`, { hint: 'point --manifests at the PCI manifest set' });
  }
  return { dir, objects };
}

/** The last step of every input (directory, Kustomize, Helm, stdin): default the namespace, then validate the whole set. */
export function assembleSet(dir: string, objects: LoadedObject[], options: LoadOptions = {}): ManifestSet {
  if (options.namespace !== undefined) applyDefaultNamespace(objects, options.namespace);
  validateSet(objects);
  return { dir, objects };
}

/** Build a set from in-memory objects (tests, benchmarks). Same validation as files. */
export function setFromTexts(files: Record<string, string>, dir = '<memory>'): ManifestSet {
  const objects = Object.entries(files).flatMap(([file, text]) => parseManifestText(text, file));
  validateSet(objects);
  return { dir, objects };
}
