/**
 * Recipe `coredns`: github.com/coredns/coredns at the version kubeadm lists, FROM scratch with
 * the binary at /coredns (the upstream image's entrypoint).
 */
import { join } from "node:path";
import type { Recipe } from "../recipe.ts";
import { imageConfig } from "../lib/config.ts";
import { dockerBuild } from "../lib/docker.ts";
import { goVersion, modulesOfBinary } from "../lib/go.ts";
import { buildGoBinaries } from "../lib/gorecipe.ts";
import { fileInputs } from "../lib/hash.ts";
import { freshContext, place } from "./context.ts";
import { kubeadmImages, refFor, tagOf } from "./kubeadm.ts";

export const coredns: Recipe = {
  name: "coredns",
  dependsOn: ["k8s-binaries"],
  inputs: () => [`kubernetes=${imageConfig().kubernetesVersion}`, `go=${goVersion()}`, ...fileInputs(import.meta.url, "./coredns.ts")],
  async build(ctx) {
    const ref = refFor(await kubeadmImages(ctx), "coredns");
    const version = tagOf(ref);
    const mod = "github.com/coredns/coredns";
    const { files } = await buildGoBinaries(
      ctx,
      {
        name: "coredns",
        module: mod,
        version,
        mains: [mod],
        ldflags: () => "-s -w",
        recipeFile: import.meta.url,
      },
      version,
    );
    const binary = files.coredns ?? "";
    const dir = freshContext(join(ctx.workDir, "image"));
    place(binary, dir, "coredns");
    ctx.log(`image ${ref}`);
    const digest = await dockerBuild(ctx, {
      contextDir: dir,
      tags: [ref],
      dockerfile: ["FROM scratch", "COPY coredns /coredns", "EXPOSE 53 53/udp", 'ENTRYPOINT ["/coredns"]', ""].join("\n"),
    });
    return { images: [{ role: "coredns", ref, digest, goModules: modulesOfBinary(binary) }], files };
  },
};
