/**
 * Recipe `pause`: Kubernetes' build/pause/linux/pause.c (from the k8s.io/kubernetes module)
 * compiled static with gcc as its Makefile does, FROM scratch, uid 65535. Tagged with the
 * Makefile's TAG (what kubeadm lists) AND kind's containerd sandbox_image, which kind uses
 * instead of kubeadm's (kind pkg/build/nodeimage/buildcontext.go "replace pause image").
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Recipe } from "../recipe.ts";
import { imageConfig } from "../lib/config.ts";
import { dockerBuild } from "../lib/docker.ts";
import { downloadModule } from "../lib/go.ts";
import { fileInputs } from "../lib/hash.ts";
import { freshContext } from "./context.ts";
import { KIND_VERSION } from "./kind.ts";

/** sandbox_image = "..." from kind's images/base/files/etc/containerd/config.toml. */
export function kindSandboxImage(kindDir: string): string {
  const toml = readFileSync(join(kindDir, "images/base/files/etc/containerd/config.toml"), "utf8");
  const m = /sandbox_image\s*=\s*"([^"]+)"/.exec(toml);
  if (!m?.[1]) throw new Error("kind containerd config has no sandbox_image");
  return m[1];
}

function hostPackageVersion(name: string): { name: string; version: string } {
  const version = execFileSync("dpkg-query", ["-W", "-f=${Version}", name]).toString().trim();
  return { name, version };
}

export const pause: Recipe = {
  name: "pause",
  inputs: () => [
    `kubernetes=${imageConfig().kubernetesVersion}`,
    `kind=${KIND_VERSION}`,
    `gcc=${hostPackageVersion("gcc").version}`,
    `libc6-dev=${hostPackageVersion("libc6-dev").version}`,
    ...fileInputs(import.meta.url, "./pause.ts"),
  ],
  async build(ctx) {
    const k8s = await downloadModule(ctx, "k8s.io/kubernetes", imageConfig().kubernetesVersion);
    const kind = await downloadModule(ctx, "sigs.k8s.io/kind", KIND_VERSION);
    const makefile = readFileSync(join(k8s.Dir, "build/pause/Makefile"), "utf8");
    const tag = /^TAG \?= (\S+)/m.exec(makefile)?.[1];
    if (!tag) throw new Error("no TAG in build/pause/Makefile");
    const refs = [...new Set([`registry.k8s.io/pause:${tag}`, kindSandboxImage(kind.Dir)])];
    const dir = freshContext(join(ctx.workDir, "image"));
    ctx.log(`gcc -static pause.c (TAG ${tag})`);
    // Makefile: $(CC) -Os -Wall -Werror -static -DVERSION=$(TAG)-$(REV) -o $@ $<
    await ctx.run("gcc", ["-Os", "-Wall", "-Werror", "-static", `-DVERSION=v${tag}-${imageConfig().kubernetesVersion}`, "-o", join(dir, "pause"), join(k8s.Dir, "build/pause/linux/pause.c")]);
    await ctx.run("strip", [join(dir, "pause")]);
    ctx.log(`image ${refs.join(", ")}`);
    const digest = await dockerBuild(ctx, {
      contextDir: dir,
      tags: refs,
      dockerfile: ["FROM scratch", "COPY pause /pause", "USER 65535:65535", 'ENTRYPOINT ["/pause"]', ""].join("\n"),
    });
    // Statically linked: glibc from the host's libc6-dev is inside the binary.
    const debianPackages = [hostPackageVersion("libc6-dev"), hostPackageVersion("gcc")];
    return {
      images: refs.map((ref) => ({ role: "pause", ref, digest, debianPackages })),
      files: {},
    };
  },
};
