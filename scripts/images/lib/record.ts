/**
 * The supply-chain record: every image and file the build produced, with the Go modules
 * and Debian packages inside. JSON for tools, markdown for people, both under $CACHE/images/.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { loadRecord, type BuildRecord } from "../../../harness/images/record.ts";
import type { RecipeOutput } from "../recipe.ts";
import { modulesOfBinary } from "./go.ts";
import { paths } from "./paths.ts";

/** The record's type and reader live in the harness (harness/images/record.ts), which reads it at boot. */
export { loadRecord, type BuildRecord };

/** Go binaries carry their module list (`go version -m`); other files get none. */
function goModulesOfFile(path: string): { goModules?: Array<{ module: string; version: string }> } {
  try {
    const mods = modulesOfBinary(path);
    return mods.length ? { goModules: mods } : {};
  } catch {
    return {};
  }
}

export interface Stamp {
  recipe: string;
  key: string;
  builtAt: string;
  seconds: number;
  /** Go toolchain and build parameters at build time (informational). */
  env: { go?: string; kubernetesVersion: string };
  output: RecipeOutput;
}

export function readStamp(recipe: string): Stamp | undefined {
  const p = paths.stamp(recipe);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as Stamp;
  } catch {
    return undefined;
  }
}

export function writeStamp(stamp: Stamp): void {
  const p = paths.stamp(stamp.recipe);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, JSON.stringify(stamp, null, 2) + "\n");
}

export function recordFromStamps(stamps: Stamp[], kubernetesVersion: string): BuildRecord {
  const rec: BuildRecord = {
    schema: "pci-harness.dev/image-record/v1",
    generatedAt: new Date().toISOString(),
    kubernetesVersion,
    images: [],
    files: {},
    recipes: [],
  };
  for (const s of stamps) {
    rec.recipes.push({ name: s.recipe, key: s.key, builtAt: s.builtAt, seconds: s.seconds, go: s.env.go });
    for (const img of s.output.images) rec.images.push({ ...img, recipe: s.recipe, key: s.key });
    for (const [name, path] of Object.entries(s.output.files)) {
      const other = rec.files[name];
      if (other && other.recipe !== s.recipe) {
        throw new Error(`file name "${name}" is produced by both ${other.recipe} and ${s.recipe}: rename one (record files are keyed by name)`);
      }
      rec.files[name] = { path, recipe: s.recipe, ...goModulesOfFile(path) };
    }
  }
  return rec;
}

/** Written whole (temp file + rename): a boot reading the record while a background build finishes never sees half of it. */
export function writeRecord(rec: BuildRecord): void {
  mkdirSync(dirname(paths.record()), { recursive: true });
  writeWhole(paths.record(), JSON.stringify(rec, null, 2) + "\n");
  writeWhole(paths.recordMarkdown(), recordMarkdown(rec));
}

function writeWhole(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** The image with `role` (e.g. "node"), or a thrown error telling how to build it. */
export function imageByRole(rec: BuildRecord | undefined, role: string): BuildRecord["images"][number] {
  const img = rec?.images.find((i) => i.role === role);
  if (!img) {
    throw new Error(`no "${role}" image in the image record (${paths.record()}): run \`node scripts/images/build.ts\` first`);
  }
  return img;
}

function recordMarkdown(rec: BuildRecord): string {
  const out: string[] = [
    "# Image supply-chain record",
    "",
    `Generated ${rec.generatedAt}; Kubernetes ${rec.kubernetesVersion}. Machine-readable copy: record.json.`,
    "",
    "## Images",
    "",
    "| role | ref | docker image ID | recipe |",
    "|---|---|---|---|",
    ...rec.images.map((i) => `| ${i.role} | \`${i.ref}\` | \`${i.digest.slice(0, 19)}\` | ${i.recipe} |`),
    "",
    "## Files",
    "",
    "| name | path | recipe |",
    "|---|---|---|",
    ...Object.entries(rec.files).map(([n, f]) => `| ${n} | \`${f.path}\` | ${f.recipe} |`),
    "",
  ];
  for (const i of rec.images) {
    out.push(`## ${i.ref}`, "", `role ${i.role}, recipe ${i.recipe}, id \`${i.digest}\``, "");
    if (i.goModules?.length) {
      out.push(`Go modules (${i.goModules.length}):`, "", ...i.goModules.map((m) => `- ${m.module} ${m.version}`), "");
    }
    if (i.debianPackages?.length) {
      out.push(
        `Debian packages (${i.debianPackages.length}): ` + i.debianPackages.map((p) => `${p.name} ${p.version}`).join(", "),
        "",
      );
    }
  }
  return out.join("\n");
}
