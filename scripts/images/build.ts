/**
 * Image-build orchestrator. Builds the recipes registered in recipes.ts in dependency
 * order, skipping any whose cache key (sha256 of its inputs + its deps' keys) is unchanged
 * and whose outputs still exist, and writes the supply-chain record.
 *
 *   node scripts/images/build.ts [recipe...] [--force] [--k8s-version v1.34.12]
 *
 * State lives in $PCI_HARNESS_CACHE (default ~/.cache/pci-harness), never in the repo.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildContext, Recipe, RecipeOutput } from "./recipe.ts";
import { recipes as registeredRecipes } from "./recipes.ts";
import { imageConfig, setImageConfig } from "./lib/config.ts";
import { imageId, pruneDangling, removeReplaced } from "./lib/docker.ts";
import { GO_BIN_DIR, goVersion } from "./lib/go.ts";
import { buildOrder } from "./lib/graph.ts";
import { sha256 } from "./lib/hash.ts";
import { cacheRoot, paths } from "./lib/paths.ts";
import { loadRecord, readStamp, recordFromStamps, writeRecord, writeStamp, type BuildRecord, type Stamp } from "./lib/record.ts";
import { logTail, runLogged } from "./lib/run.ts";

export { imageByRole, loadRecord } from "./lib/record.ts";
export type { BuildRecord } from "./lib/record.ts";

export interface BuildOptions {
  /** Recipe names to build (with their dependencies); all recipes when empty. */
  recipes?: string[];
  /** Rebuild the named recipes (all selected ones when none are named) even when cached. */
  force?: boolean;
  kubernetesVersion?: string;
  /** Registry override (tests); defaults to recipes.ts. */
  registry?: Recipe[];
}

export class RecipeFailure extends Error {
  readonly recipe: string;
  readonly logFile: string;
  constructor(recipe: string, logFile: string, cause: unknown) {
    super(`recipe ${recipe} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "RecipeFailure";
    this.recipe = recipe;
    this.logFile = logFile;
  }
}

const started = Date.now();
function elapsed(): string {
  const s = Math.round((Date.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}
function progress(line: string): void {
  process.stderr.write(`[images ${elapsed()}] ${line}\n`);
}

/** Cache keys for recipes in dependency order: own inputs + deps' keys. */
async function computeKeys(order: Recipe[]): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const r of order) {
    const inputs = await r.inputs();
    const depKeys = (r.dependsOn ?? []).map((d) => `${d}=${keys.get(d)}`);
    keys.set(r.name, sha256(JSON.stringify({ recipe: r.name, inputs, deps: depKeys })));
  }
  return keys;
}

/** Every image still present with the recorded ID, every file still on disk. */
function outputsExist(out: RecipeOutput): boolean {
  return (
    out.images.every((i) => imageId(i.ref) === i.digest) && Object.values(out.files).every((f) => existsSync(f))
  );
}

export async function buildImages(opts: BuildOptions = {}): Promise<BuildRecord> {
  if (opts.kubernetesVersion) setImageConfig({ kubernetesVersion: opts.kubernetesVersion });
  const registry = opts.registry ?? registeredRecipes;
  const wanted = opts.recipes ?? [];
  const order = buildOrder(registry, wanted);
  const allKeys = await computeKeys(buildOrder(registry, []));
  const forced = new Set(opts.force ? (wanted.length ? wanted : order.map((r) => r.name)) : []);
  for (const dir of [paths.bin(), paths.logs(), paths.stamps()]) mkdirSync(dir, { recursive: true });

  preflight(order.some((r) => r.needsDocker !== false));
  // A no-op never waits for the lock: a Calico run goes on while another process builds Cilium.
  const current = forced.size ? undefined : upToDateRecord(order, allKeys);
  if (current) {
    for (const r of order) progress(`${r.name}: cached (${(allKeys.get(r.name) ?? "").slice(0, 12)})`);
    progress(`record ${paths.record()} is current (${current.images.length} images, ${Object.keys(current.files).length} files)`);
    return current;
  }
  const release = await acquireLock();
  try {
    const outputs: Record<string, RecipeOutput> = {};
    const go = goVersion();
    progress(`cache ${cacheRoot()}; Kubernetes ${imageConfig().kubernetesVersion}; ${order.map((r) => r.name).join(" → ")}`);
    for (const r of order) {
      const key = allKeys.get(r.name) ?? "";
      const stamp = readStamp(r.name);
      if (!forced.has(r.name) && stamp?.key === key && outputsExist(stamp.output)) {
        progress(`${r.name}: cached (${key.slice(0, 12)})`);
        outputs[r.name] = stamp.output;
        continue;
      }
      const why = !stamp ? "never built" : stamp.key !== key ? "inputs changed" : forced.has(r.name) ? "forced" : "outputs missing";
      const logFile = join(paths.logs(), `${r.name}.log`);
      writeFileSync(logFile, `# ${r.name} ${new Date().toISOString()} key=${key}\n`);
      const workDir = paths.work(r.name);
      mkdirSync(workDir, { recursive: true });
      const deps: Record<string, RecipeOutput> = {};
      for (const d of r.dependsOn ?? []) deps[d] = outputs[d] as RecipeOutput;
      const ctx: BuildContext = {
        recipe: r.name,
        key,
        cacheDir: cacheRoot(),
        workDir,
        binDir: paths.bin(),
        deps,
        log: (line) => {
          progress(`${r.name}: ${line}`);
          writeFileSync(logFile, `## ${line}\n`, { flag: "a" });
        },
        run: (cmd, args, o) => runLogged(logFile, cmd, args, o),
      };
      progress(`${r.name}: building (${why}), log ${logFile}`);
      const t0 = Date.now();
      let output: RecipeOutput;
      try {
        output = await r.build(ctx);
      } catch (err) {
        pruneDangling(r.name);
        throw new RecipeFailure(r.name, logFile, err);
      }
      const seconds = Math.round((Date.now() - t0) / 100) / 10;
      const fresh: Stamp = {
        recipe: r.name,
        key,
        builtAt: new Date().toISOString(),
        seconds,
        env: { go, kubernetesVersion: imageConfig().kubernetesVersion },
        output,
      };
      writeStamp(fresh);
      outputs[r.name] = output;
      const replaced = removeReplaced(stamp?.output, output);
      if (replaced.length) progress(`${r.name}: removed replaced ${replaced.join(", ")}`);
      progress(`${r.name}: done in ${seconds}s → ${output.images.map((i) => i.ref).join(", ") || Object.keys(output.files).join(", ")}`);
    }
    // The record covers every registered recipe whose stamp is current, not only this run's.
    const current = buildOrder(registry, [])
      .map((r) => readStamp(r.name))
      .filter((s): s is Stamp => !!s && allKeys.get(s.recipe) === s.key && outputsExist(s.output));
    const record = recordFromStamps(current, imageConfig().kubernetesVersion);
    writeRecord(record);
    progress(`record ${paths.record()} (${record.images.length} images, ${Object.keys(record.files).length} files)`);
    return record;
  } finally {
    release();
  }
}

/** The record, when every selected recipe is cached with outputs present and the record already lists it at that key. */
function upToDateRecord(order: Recipe[], keys: Map<string, string>): BuildRecord | undefined {
  const record = loadRecord(paths.record());
  if (!record || record.kubernetesVersion !== imageConfig().kubernetesVersion) return undefined;
  for (const r of order) {
    const stamp = readStamp(r.name);
    if (!stamp || stamp.key !== keys.get(r.name) || !outputsExist(stamp.output)) return undefined;
    if (!record.recipes.some((x) => x.name === r.name && x.key === stamp.key)) return undefined;
  }
  return record;
}

/** Fail early, with the fix, when a tool every recipe needs is missing. */
function preflight(needsDocker: boolean): void {
  if (needsDocker) {
    try {
      execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: ["ignore", "pipe", "pipe"] });
    } catch {
      throw new Error("the Docker engine does not answer (`docker info` failed): start it (on this project's machines: ../shared/env/docker-up)");
    }
  }
  try {
    goVersion();
  } catch {
    throw new Error(`Go not found at ${GO_BIN_DIR}/go: install Go (1.25+) there`);
  }
}

/** One build at a time per cache (helpers and CI jobs share the machine). */
async function acquireLock(): Promise<() => void> {
  const lock = join(cacheRoot(), "images", "build.lock");
  mkdirSync(join(cacheRoot(), "images"), { recursive: true });
  for (let waited = 0; ; waited += 5) {
    try {
      closeSync(openSync(lock, "wx"));
      writeFileSync(lock, String(process.pid));
      return () => rmSync(lock, { force: true });
    } catch {
      const pid = Number(readFileSync(lock, "utf8").trim() || "0");
      if (!pid || !isAlive(pid)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (waited % 60 === 0) progress(`waiting for build lock held by pid ${pid}`);
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function parseArgs(argv: string[]): BuildOptions {
  const opts: BuildOptions = { recipes: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a === "--force") opts.force = true;
    else if (a === "--k8s-version") opts.kubernetesVersion = argv[++i];
    else if (a.startsWith("--k8s-version=")) opts.kubernetesVersion = a.slice("--k8s-version=".length);
    else if (a === "-h" || a === "--help") {
      process.stdout.write(
        "usage: node scripts/images/build.ts [recipe...] [--force] [--k8s-version v1.34.12]\n" +
          `recipes: ${registeredRecipes.map((r) => r.name).join(", ")}\n`,
      );
      process.exit(0);
    } else if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
    else opts.recipes?.push(a);
  }
  return opts;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await buildImages(parseArgs(process.argv.slice(2)));
  } catch (err) {
    if (err instanceof RecipeFailure) {
      process.stderr.write(`\n✗ image recipe "${err.recipe}" failed. Log: ${err.logFile}\n--- last lines ---\n${logTail(err.logFile, 30)}\n`);
    } else {
      process.stderr.write(`\n✗ ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.exit(1);
  }
}
