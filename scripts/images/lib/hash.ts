/** Cache-key helpers: recipes hash their own source files and pinned versions into inputs(). */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

const repoImages = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * "file:<path>:<sha256>" for each file (or every file under a directory), resolved relative
 * to the calling module's URL. Pass `import.meta.url` and paths like "./Dockerfile".
 */
export function fileInputs(base: string, ...paths: string[]): string[] {
  const dir = base.startsWith("file:") ? dirname(fileURLToPath(base)) : base;
  const out: string[] = [];
  for (const p of paths) {
    const abs = p.startsWith("file:") ? fileURLToPath(p) : resolve(dir, p);
    for (const f of listFiles(abs)) {
      out.push(`file:${relative(repoImages, f)}:${sha256(readFileSync(f))}`);
    }
  }
  return out;
}

function listFiles(abs: string): string[] {
  if (!statSync(abs).isDirectory()) return [abs];
  return readdirSync(abs)
    .sort()
    .flatMap((name) => listFiles(join(abs, name)));
}
