/** Build-context helpers: place binaries into a docker build context without copying 100 MB twice. */
import { copyFileSync, linkSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export function freshContext(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Hard-link (same filesystem) or copy `src` to `dir/name`. */
export function place(src: string, dir: string, name: string): string {
  const dest = join(dir, name);
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
  return dest;
}
