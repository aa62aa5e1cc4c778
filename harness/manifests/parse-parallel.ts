import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { InputError } from '../errors.ts';
import type { Chunk, ChunkResult } from './parse-worker.ts';
import { lazyLineOf, type ParsedDoc } from './parse-docs.ts';

/**
 * Large sets (tens of MB of YAML: a platform cluster's 50,000 pods) spend
 * most of their load time in the YAML parser, single-threaded. This splits
 * each file at its document markers and parses the chunks in worker threads
 * with the same parser and options, synchronously for the caller (the
 * loader's API is sync): the main thread waits on a shared flag per worker.
 * Results equal the sequential parse (values, document index, lines); a
 * finding's line is looked up by re-parsing that one document on demand.
 * Below PARALLEL_MIN_BYTES the sequential path is faster (worker start-up).
 */
export const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
const WORKER_TIMEOUT_MS = 600_000;

/**
 * Split a YAML stream at directives-end markers (`---` at column 0): the
 * spec forbids such a line inside any scalar, so each chunk is a whole
 * number of documents. A stream with directives (`%YAML`) is not split.
 */
export function documentChunks(file: string, text: string, target = CHUNK_BYTES): Chunk[] {
  if (/^%/m.test(text)) return [{ file, text, offset: 0, lineOffset: 0 }];
  const cuts: number[] = [0];
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let last = 0;
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    if (m.index - last >= target) {
      cuts.push(m.index);
      last = m.index;
    }
  }
  const chunks: Chunk[] = [];
  let line = 0;
  for (let i = 0; i < cuts.length; i++) {
    const start = cuts[i]!;
    const end = cuts[i + 1] ?? text.length;
    const body = text.slice(start, end);
    chunks.push({ file, text: body, offset: start, lineOffset: line });
    for (let j = body.indexOf('\n'); j >= 0; j = body.indexOf('\n', j + 1)) line++;
  }
  return chunks;
}

export interface ParsedFile {
  file: string;
  text: string;
  docs: ParsedDoc[];
  lineOf: (p: ParsedDoc) => (path: (string | number)[]) => number;
}

/** Parse files in worker threads; the first error in input order is thrown, as the sequential loop would. */
export function parseFilesInParallel(files: ReadonlyArray<{ file: string; text: string }>, opts: { workers?: number; chunkBytes?: number } = {}): ParsedFile[] {
  const workers = opts.workers ?? Math.max(1, Math.min(availableParallelism(), 8));
  const chunks = files.flatMap((f) => documentChunks(f.file, f.text, opts.chunkBytes));
  const shares: Chunk[][] = Array.from({ length: Math.min(workers, chunks.length) }, () => []);
  // Largest first onto the lightest share: balanced within one chunk.
  const load = shares.map(() => 0);
  const order = chunks.map((c, i) => i).sort((a, b) => chunks[b]!.text.length - chunks[a]!.text.length);
  const where = new Map<number, { share: number; pos: number }>();
  for (const i of order) {
    const s = load.indexOf(Math.min(...load));
    where.set(i, { share: s, pos: shares[s]!.length });
    shares[s]!.push(chunks[i]!);
    load[s]! += chunks[i]!.text.length;
  }
  const flag = new SharedArrayBuffer(4 * shares.length);
  const flags = new Int32Array(flag);
  const started = shares.map((share, slot) => {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./parse-worker.ts', import.meta.url), { workerData: { chunks: share, flag, slot, port: port2 }, transferList: [port2] });
    return { worker, port: port1 };
  });
  const deadline = Date.now() + WORKER_TIMEOUT_MS;
  let perShare: ChunkResult[][];
  try {
    perShare = started.map(({ port }, slot) => {
      for (;;) {
        const got = receiveMessageOnPort(port);
        if (got) return got.message as ChunkResult[];
        // A worker that died never raises its flag: give up at the deadline rather than hang.
        if (Date.now() > deadline) throw new Error(`a YAML parser thread did not answer within ${WORKER_TIMEOUT_MS / 1000} s`);
        Atomics.wait(flags, slot, 0, 100);
      }
    });
  } finally {
    for (const { worker, port } of started) {
      port.close();
      void worker.terminate();
    }
  }
  const byFile = new Map<string, ParsedFile>();
  for (const f of files) byFile.set(f.file, { file: f.file, text: f.text, docs: [], lineOf: (p) => lazyLineOf(f.text, p) });
  // Input order: the first error is the one the sequential loop would throw; document indexes continue across a file's chunks.
  chunks.forEach((c, i) => {
    const r = perShare[where.get(i)!.share]![where.get(i)!.pos]!;
    if (!r.ok) throw new InputError(r.message, { file: r.file, line: r.line, hint: r.hint });
    const pf = byFile.get(c.file)!;
    const base = pf.docs.length;
    for (const d of r.docs) pf.docs.push({ ...d, index: base + d.index });
  });
  return [...byFile.values()];
}
