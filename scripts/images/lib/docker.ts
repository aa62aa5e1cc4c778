/** Docker helpers: every image we make carries pci-harness.dev/recipe and pci-harness.dev/key labels. */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildContext } from "../recipe.ts";

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

/** Removes dangling images a failed build of ours left behind (only images carrying our recipe label). */
export function pruneDangling(): void {
  try {
    execFileSync("docker", ["image", "prune", "--force", "--filter", `label=${LABEL_RECIPE}`], { stdio: "ignore" });
  } catch {
    // best effort: the engine may be down; the build error is what matters
  }
}

/**
 * Untags images of `recipe` whose key label is not `key` (superseded builds: no stamp points
 * at them any more), then prunes what became dangling. Images a container still uses stay.
 */
export function pruneSuperseded(recipe: string, key: string): string[] {
  const removed: string[] = [];
  try {
    const rows = execFileSync(
      "docker",
      ["images", "--filter", `label=${LABEL_RECIPE}=${recipe}`, "--format", "{{.Repository}}:{{.Tag}}\t{{.ID}}"],
      { stdio: ["ignore", "pipe", "ignore"] },
    )
      .toString()
      .split("\n")
      .filter(Boolean);
    for (const row of rows) {
      const [ref = "", id = ""] = row.split("\t");
      if (ref.includes("<none>")) continue;
      const k = execFileSync("docker", ["image", "inspect", "--format", `{{index .Config.Labels "${LABEL_KEY}"}}`, id], {
        stdio: ["ignore", "pipe", "ignore"],
      })
        .toString()
        .trim();
      if (k === key) continue;
      try {
        execFileSync("docker", ["rmi", ref], { stdio: "ignore" });
        removed.push(ref);
      } catch {
        // in use by a container (e.g. a running kind node): keep it
      }
    }
  } catch {
    // best effort
  }
  pruneDangling();
  return removed;
}
