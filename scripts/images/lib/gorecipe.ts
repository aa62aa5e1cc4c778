/**
 * A recipe that builds Go main packages of one pinned module through a throwaway wrapper
 * module (so the upstream go.mod's local replace directives never matter, and go.sum is
 * filled and verified from the proxy). Output files: binary name → path.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { BuildContext, Recipe } from "../recipe.ts";
import { downloadModule, goBuild, goVersion, prepareWrapperModule, type DownloadedModule } from "./go.ts";
import { fileInputs } from "./hash.ts";
import { installFile } from "./paths.ts";

export interface GoBinarySpec {
  name: string;
  module: string;
  /** Pinned version, or a function (e.g. reading the Kubernetes version parameter). */
  version: string | (() => string);
  /** Full import paths of main packages; binary name = last path element unless `rename` says otherwise. */
  mains: string[];
  rename?: Record<string, string>;
  /** Extra requires for the wrapper (e.g. sibling modules at the same version). */
  extraRequire?: (version: string) => Array<[string, string]>;
  ldflags?: (mod: DownloadedModule & { Time: string }) => string;
  tags?: string[];
  /** Binaries also copied into $CACHE/bin (tools the harness runs). */
  installToBin?: string[];
  /** Files whose contents feed the cache key (the recipe module: pass import.meta.url). */
  recipeFile: string;
  dependsOn?: string[];
}

export function binaryName(spec: GoBinarySpec, main: string): string {
  return spec.rename?.[main] ?? basename(main.replace(/\/v\d+$/, ""));
}

export function goBinaryRecipe(spec: GoBinarySpec): Recipe {
  const version = () => (typeof spec.version === "string" ? spec.version : spec.version());
  return {
    name: spec.name,
    dependsOn: spec.dependsOn,
    inputs: () => [
      `module=${spec.module}@${version()}`,
      `mains=${spec.mains.join(",")}`,
      `tags=${(spec.tags ?? []).join(",")}`,
      `go=${goVersion()}`,
      ...fileInputs(spec.recipeFile, spec.recipeFile),
    ],
    async build(ctx: BuildContext) {
      return buildGoBinaries(ctx, spec, version());
    },
  };
}

export async function buildGoBinaries(ctx: BuildContext, spec: GoBinarySpec, version: string) {
  ctx.log(`go mod download ${spec.module}@${version}`);
  const mod = await downloadModule(ctx, spec.module, version);
  const info = JSON.parse(readFileSync(mod.Info, "utf8")) as { Time: string };
  const upstreamGo = /^go (\S+)/m.exec(readFileSync(mod.GoMod, "utf8"))?.[1] ?? "1.22";
  const src = join(ctx.workDir, "src");
  await prepareWrapperModule(ctx, src, {
    module: `pci-harness.dev/build/${spec.name}`,
    goVersion: upstreamGo,
    require: [[spec.module, version], ...(spec.extraRequire?.(version) ?? [])],
    mains: spec.mains,
  });
  const out = join(ctx.workDir, "out");
  mkdirSync(out, { recursive: true });
  ctx.log(`go build ${spec.mains.map((m) => binaryName(spec, m)).join(" ")}`);
  const files: Record<string, string> = {};
  // Renamed binaries need one -o per package; the rest share one invocation.
  const plain = spec.mains.filter((m) => !spec.rename?.[m]);
  const common = { dir: src, ldflags: spec.ldflags?.({ ...mod, Time: info.Time }) ?? "-s -w", tags: spec.tags };
  if (plain.length === 1) await goBuild(ctx, { ...common, packages: plain, out: join(out, binaryName(spec, plain[0] ?? "")) });
  else if (plain.length) await goBuild(ctx, { ...common, packages: plain, out: out + "/" });
  for (const m of spec.mains.filter((x) => spec.rename?.[x])) {
    await goBuild(ctx, { ...common, packages: [m], out: join(out, binaryName(spec, m)) });
  }
  for (const m of spec.mains) {
    const n = binaryName(spec, m);
    files[n] = join(out, n);
  }
  for (const n of spec.installToBin ?? []) {
    const dest = join(ctx.binDir, n);
    installFile(join(out, n), dest);
    files[`bin/${n}`] = dest;
  }
  return { images: [], files };
}
