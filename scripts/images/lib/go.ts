/**
 * Go helpers: every binary is built from modules fetched through the Go module proxy and
 * verified against go.sum / the checksum database (`go mod download`, `go mod verify`).
 * The Go module and build caches stay in Go's defaults (~/go, ~/.cache/go-build).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildContext } from "../recipe.ts";

export const GO_BIN_DIR = "/usr/local/go/bin";

/** Environment for go commands: Go on PATH, no cgo unless asked. */
export function goEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: `${GO_BIN_DIR}:${process.env.PATH ?? ""}`, CGO_ENABLED: "0", GOTOOLCHAIN: "local", ...extra };
}

export function goVersion(): string {
  return execFileSync(join(GO_BIN_DIR, "go"), ["env", "GOVERSION"]).toString().trim();
}

export interface DownloadedModule {
  Path: string;
  Version: string;
  Dir: string;
  GoMod: string;
  Sum: string;
  GoModSum: string;
  Info: string;
}

/** `go mod download -json mod@version` (verifies the zip hash against the checksum database). */
export async function downloadModule(ctx: BuildContext, mod: string, version: string): Promise<DownloadedModule> {
  const out = await ctx.run("go", ["mod", "download", "-json", `${mod}@${version}`], { env: goEnv(), cwd: ctx.workDir });
  const parsed = JSON.parse(out) as DownloadedModule & { Error?: string };
  if (parsed.Error) throw new Error(`go mod download ${mod}@${version}: ${parsed.Error}`);
  return parsed;
}

export interface WrapperModule {
  /** Module path of the wrapper (never published). */
  module: string;
  goVersion: string;
  require: Array<[string, string]>;
  replace?: Array<[string, string, string]>;
  /** Main packages to build; imported from a tools.go so `go mod tidy` resolves them. */
  mains: string[];
}

/**
 * Writes go.mod + tools.go into dir, then `go mod tidy` (fills go.sum from the proxy) and
 * `go mod verify` (re-checks every downloaded module against go.sum).
 */
export async function prepareWrapperModule(ctx: BuildContext, dir: string, w: WrapperModule): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const lines = [`module ${w.module}`, "", `go ${w.goVersion}`, "", "require ("];
  for (const [m, v] of w.require) lines.push(`\t${m} ${v}`);
  lines.push(")");
  if (w.replace?.length) {
    lines.push("", "replace (");
    for (const [from, to, v] of w.replace) lines.push(`\t${from} => ${to} ${v}`);
    lines.push(")");
  }
  writeFileSync(join(dir, "go.mod"), lines.join("\n") + "\n");
  const imports = w.mains.map((m) => `\t_ "${m}"`).join("\n");
  writeFileSync(join(dir, "tools.go"), `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`);
  await ctx.run("go", ["mod", "tidy"], { cwd: dir, env: goEnv() });
  await ctx.run("go", ["mod", "verify"], { cwd: dir, env: goEnv() });
}

/** Replace block of a go.mod: lines `a => ./path` (local staging dirs). Returns [from, localPath]. */
export function localReplaces(goModText: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const block = /^replace \(\n([\s\S]*?)^\)/m.exec(goModText)?.[1] ?? "";
  const single = goModText.split("\n").filter((l) => l.startsWith("replace ")).map((l) => l.slice(8));
  for (const line of [...block.split("\n"), ...single]) {
    const m = /^\s*(\S+)(?:\s+\S+)?\s*=>\s*(\.\S*)\s*$/.exec(line);
    if (m?.[1] && m[2]) out.push([m[1], m[2]]);
  }
  return out;
}

export interface GoBuildSpec {
  dir: string;
  packages: string[];
  /** Output directory (several packages) or file (one package). */
  out: string;
  ldflags?: string;
  tags?: string[];
  cgo?: boolean;
  extraEnv?: Record<string, string>;
}

/** One `go build` for all packages (shared packages compile once), niced: the 2 cores are shared. */
export async function goBuild(ctx: BuildContext, spec: GoBuildSpec): Promise<void> {
  const args = ["-n", "10", "go", "build", "-trimpath"];
  if (spec.tags?.length) args.push("-tags", spec.tags.join(","));
  if (spec.ldflags) args.push("-ldflags", spec.ldflags);
  args.push("-o", spec.out, ...spec.packages);
  await ctx.run("nice", args, {
    cwd: spec.dir,
    env: goEnv({ CGO_ENABLED: spec.cgo ? "1" : "0", ...spec.extraEnv }),
  });
}

/** Modules compiled into a Go binary (`go version -m`): main module first, replacements resolved. */
export function modulesOfBinary(binary: string): Array<{ module: string; version: string }> {
  const text = execFileSync(join(GO_BIN_DIR, "go"), ["version", "-m", binary], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  const mods: Array<{ module: string; version: string }> = [];
  for (const line of text.split("\n")) {
    const f = line.split("\t").filter(Boolean);
    if (f[0] === "mod" || f[0] === "dep") mods.push({ module: f[1] ?? "", version: f[2] ?? "" });
    if (f[0] === "=>" && mods.length) {
      // replaced module: record what was actually compiled in
      mods[mods.length - 1] = { module: f[1] ?? "", version: f[2] ?? "" };
    }
  }
  return mods;
}

/** Union of modules of several binaries, deduplicated, sorted. */
export function modulesOfBinaries(binaries: string[]): Array<{ module: string; version: string }> {
  const seen = new Map<string, { module: string; version: string }>();
  for (const b of binaries) for (const m of modulesOfBinary(b)) seen.set(`${m.module}@${m.version}`, m);
  return [...seen.values()].sort((a, b) => a.module.localeCompare(b.module));
}
