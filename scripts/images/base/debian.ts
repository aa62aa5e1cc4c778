/**
 * Recipe `debian-base`: a minimal Debian bookworm image made from Debian packages only
 * (debootstrap --variant=minbase → docker import), then apt-upgraded from bookworm-updates
 * and bookworm-security inside a `docker build`, which also proves apt works inside builds.
 * Other recipes build FROM it: use `debianBaseRef(ctx.deps)`.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Recipe, RecipeOutput } from "../recipe.ts";
import { debianPackagesOfImage, dockerBuild, imageId, labelChanges, shortKey } from "../lib/docker.ts";
import { fileInputs } from "../lib/hash.ts";

export const SUITE = "bookworm";

/** Debian mirror the host already uses (first deb source carrying the bookworm suite, not security). */
export function hostDebianMirror(): string {
  const files = ["/etc/apt/sources.list"];
  const d = "/etc/apt/sources.list.d";
  if (existsSync(d)) files.push(...readdirSync(d).map((f) => join(d, f)));
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    // deb822 stanzas
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uri && suites.includes(SUITE) && /\/debian\/?$/.test(uri)) return uri.replace(/\/$/, "");
    }
    // one-line format
    for (const line of text.split("\n")) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s/.exec(line.trim());
      if (m?.[1] && m[2] === SUITE && /\/debian\/?$/.test(m[1])) return m[1].replace(/\/$/, "");
    }
  }
  return "http://deb.debian.org/debian";
}

function securityMirror(mirror: string): string {
  return mirror.replace(/\/debian$/, "/debian-security");
}

/** Image ref of the debian-base output, for FROM lines of other recipes. */
export function debianBaseRef(deps: Record<string, RecipeOutput>): string {
  const ref = deps["debian-base"]?.images[0]?.ref;
  if (!ref) throw new Error('recipe must list "debian-base" in dependsOn to build FROM it');
  return ref;
}

export const debianBase: Recipe = {
  name: "debian-base",
  inputs: () => [`suite=${SUITE}`, `mirror=${hostDebianMirror()}`, ...fileInputs(import.meta.url, "./debian.ts")],
  async build(ctx) {
    const mirror = hostDebianMirror();
    if (!existsSync("/usr/sbin/debootstrap")) {
      ctx.log("installing debootstrap (apt)");
      await ctx.run("apt-get", ["update", "-qq"]);
      await ctx.run("apt-get", ["install", "-y", "--no-install-recommends", "debootstrap"], {
        env: { DEBIAN_FRONTEND: "noninteractive" },
      });
    }
    const rootfs = join(ctx.workDir, "rootfs");
    rmSync(rootfs, { recursive: true, force: true });
    ctx.log(`debootstrap --variant=minbase ${SUITE} from ${mirror}`);
    await ctx.run("debootstrap", ["--variant=minbase", SUITE, rootfs, mirror]);

    // Sources for apt inside images built FROM this one (updates + security, like debian:bookworm-slim).
    const sources = [
      `deb ${mirror} ${SUITE} main`,
      `deb ${mirror} ${SUITE}-updates main`,
      `deb ${securityMirror(mirror)} ${SUITE}-security main`,
    ].join("\n");
    await ctx.run("sh", ["-c", `printf '%s\\n' "$1" > "$2/etc/apt/sources.list"`, "sh", sources, rootfs]);
    // Slim the image the way debian:*-slim does: no apt lists or package caches.
    await ctx.run("sh", ["-c", `rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb`, "sh", rootfs]);

    const rawRef = `pci-harness/debian-rootfs:${SUITE}-${shortKey(ctx)}`;
    ctx.log("docker import");
    await ctx.run("sh", ["-c", `tar -C "$1" -c . | docker import ${labelChanges(ctx).map((a) => `'${a}'`).join(" ")} --change 'CMD ["bash"]' - "$2"`, "sh", rootfs, rawRef]);
    rmSync(rootfs, { recursive: true, force: true });

    const ref = `pci-harness/debian:${SUITE}-${shortKey(ctx)}`;
    ctx.log("apt upgrade from bookworm-updates/security inside docker build");
    const digest = await dockerBuild(ctx, {
      contextDir: join(ctx.workDir, "upgrade"),
      tags: [ref],
      dockerfile: [
        `FROM ${rawRef}`,
        // docker import leaves PATH unset; CRI runtimes resolve commands with the image's PATH.
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ARG DEBIAN_FRONTEND=noninteractive",
        "RUN apt-get update && apt-get -y upgrade && apt-get clean && rm -rf /var/lib/apt/lists/*",
        'CMD ["bash"]',
        "",
      ].join("\n"),
    });
    // The raw import is an intermediate: drop its tag (layers stay shared with the final image).
    if (imageId(rawRef)) await ctx.run("docker", ["rmi", "--force", "--no-prune", rawRef]).catch(() => "");
    const debianPackages = await debianPackagesOfImage(ctx, ref);
    return { images: [{ role: "debian-base", ref, digest, debianPackages }], files: {} };
  },
};
