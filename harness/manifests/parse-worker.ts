/**
 * Worker thread of parse-parallel.ts: parses its share of document chunks
 * with the loader's own parser (parse-docs.ts, same library and options),
 * posts the values back and raises its flag. Errors travel as data (file,
 * line, message, hint) and are thrown again, in input order, by the caller.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { InputError } from '../errors.ts';
import { parseDocuments, type ParsedDoc } from './parse-docs.ts';

export interface Chunk {
  file: string;
  text: string;
  offset: number;
  lineOffset: number;
}
export type ChunkResult = { ok: true; docs: ParsedDoc[] } | { ok: false; message: string; file?: string; line?: number; hint?: string };

const { chunks, flag, slot, port } = workerData as { chunks: Chunk[]; flag: SharedArrayBuffer; slot: number; port: MessagePort };
const results: ChunkResult[] = chunks.map((c) => {
  try {
    return { ok: true, docs: parseDocuments(c.text, c.file, { keepDocuments: false, offset: c.offset, lineOffset: c.lineOffset }).docs };
  } catch (e) {
    if (e instanceof InputError) return { ok: false, message: e.message, file: e.file, line: e.line, hint: e.hint };
    return { ok: false, message: `YAML parser failed: ${(e as Error).message}` };
  }
});
// Straight to the caller's port: its thread is blocked waiting, so nothing may go through its event loop.
port.postMessage(results);
const flags = new Int32Array(flag);
Atomics.store(flags, slot, 1);
Atomics.notify(flags, slot);
