/** Docker helpers: every image we make carries pci-harness.dev/recipe and pci-harness.dev/key labels. */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildContext, RecipeOutput } from "../recipe.ts";

export const LABEL_RECIPE = "pci-harness.dev/recipe";
export const LABEL_KEY = "pci-harness.dev/key";

/** Docker image ID (sha256:...) of ref, or undefined when the image is absent. */
export function imageId(ref: string): string | undefined {
  try {
    return execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", ref], {
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

export function labelArgs(ctx: BuildContext, flag = "--label"): string[] {
  return [flag, `${LABEL_RECIPE}=${ctx.recipe}`, flag, `${LABEL_KEY}=${ctx.key}`];
}

/** Same labels as Dockerfile/commit `--change` instructions. */
export function labelChanges(ctx: BuildContext): string[] {
  return ["--change", `LABEL ${LABEL_RECIPE}=${ctx.recipe} ${LABEL_KEY}=${ctx.key}`];
}

/** First 12 hex chars of the cache key: the tag suffix of images we name ourselves. */
export function shortKey(ctx: BuildContext): string {
  return ctx.key.slice(0, 12);
}

export interface DockerBuildSpec {
  /** Dockerfile text; written into contextDir. */
  dockerfile: string;
  /** Build context directory (files to COPY). Created if missing. */
  contextDir: string;
  /** Tags to apply (first one is the primary). */
  tags: string[];
}

/**
 * Classic builder (DOCKER_BUILDKIT=0): the engine here is Debian's docker.io 20.10, and
 * BuildKit may try to resolve frontends/images from a registry we cannot reach.
 * Returns the image ID.
 */
export async function dockerBuild(ctx: BuildContext, spec: DockerBuildSpec): Promise<string> {
  mkdirSync(spec.contextDir, { recursive: true });
  writeFileSync(join(spec.contextDir, "Dockerfile"), spec.dockerfile);
  const tagArgs = spec.tags.flatMap((t) => ["-t", t]);
  await ctx.run("docker", ["build", "--pull=false", "--force-rm", ...labelArgs(ctx), ...tagArgs, spec.contextDir], {
    env: { DOCKER_BUILDKIT: "0" },
  });
  const id = imageId(spec.tags[0] ?? "");
  if (!id) throw new Error(`docker build produced no image ${spec.tags[0]}`);
  return id;
}

/** Debian packages (name, version) installed in an image that has dpkg. */
export async function debianPackagesOfImage(ctx: BuildContext, ref: string): Promise<Array<{ name: string; version: string }>> {
  const out = await ctx.run(
    "docker",
    ["run", "--rm", "--network=none", "--entrypoint", "dpkg-query", ref, "-W", "-f=${Package}\\t${Version}\\n"],
    { quietStdout: true },
  );
  return parseDpkgList(out);
}

export function parseDpkgList(out: string): Array<{ name: string; version: string }> {
  return out
    .split("\n")
    .filter((l) => l.includes("\t"))
    .map((l) => {
      const [name = "", version = ""] = l.split("\t");
      return { name, version };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Removes dangling images a failed build of `recipe` left behind. Only images carrying this
 * recipe's own label: labels are inherited through FROM, so a wider filter would hit other
 * recipes' (and other people's) images built on top of ours.
 */
export function pruneDangling(recipe: string): void {
  try {
    execFileSync("docker", ["image", "prune", "--force", "--filter", `label=${LABEL_RECIPE}=${recipe}`], { stdio: "ignore" });
  } catch {
    // best effort: the engine may be down; the build error is what matters
  }
}

/**
 * After `recipe` rebuilt: drops exactly the images its previous build recorded and the new
 * build replaced (a ref no longer produced, or an upstream ref now pointing at a new image).
 * Never selects by label (children inherit labels) and never forces: an image a container or
 * a child image still uses stays. Returns what was removed.
 */
export function removeReplaced(prev: RecipeOutput | undefined, next: RecipeOutput): string[] {
  if (!prev) return [];
  const removed: string[] = [];
  const nextRefs = new Set(next.images.map((i) => i.ref));
  const nextIds = new Set(next.images.map((i) => i.digest));
  for (const img of prev.images) {
    if (!nextRefs.has(img.ref) && imageId(img.ref) === img.digest && tryRmi(img.ref)) removed.push(img.ref);
  }
  for (const id of new Set(prev.images.map((i) => i.digest))) {
    if (!nextIds.has(id) && imageId(id) && tryRmi(id)) removed.push(id.slice(0, 19));
  }
  return removed;
}

function tryRmi(ref: string): boolean {
  try {
    execFileSync("docker", ["rmi", ref], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
