/**
 * Where the image build keeps its state. Outside the repo on purpose: CI runs in a
 * fresh clone, and the Go module/build caches (~/go, ~/.cache/go-build) stay in
 * their Go defaults so `go` reuses them across clones too.
 */
import { chmodSync, copyFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "../../../harness/tools/locate.ts";

/** The harness-wide cache root (one rule, harness/tools/locate.ts). */
export function cacheRoot(): string {
  return cacheDir();
}

export const paths = {
  bin: () => join(cacheRoot(), "bin"),
  logs: () => join(cacheRoot(), "logs"),
  work: (recipe: string) => join(cacheRoot(), "work", recipe),
  stamps: () => join(cacheRoot(), "images", "stamps"),
  stamp: (recipe: string) => join(cacheRoot(), "images", "stamps", `${recipe}.json`),
  record: () => join(cacheRoot(), "images", "record.json"),
  recordMarkdown: () => join(cacheRoot(), "images", "record.md"),
};

/** Replaces dest atomically (copy + rename), so a binary that is running right now can be updated. */
export function installFile(src: string, dest: string): void {
  const tmp = `${dest}.tmp-${process.pid}`;
  copyFileSync(src, tmp);
  chmodSync(tmp, 0o755);
  renameSync(tmp, dest);
}
