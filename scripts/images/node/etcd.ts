/**
 * Recipe `etcd`: the etcd server at the version kubeadm wants (registry.k8s.io/etcd:<v>-0),
 * built from go.etcd.io/etcd/server/v3 (its go.mod replaces siblings with ../ paths, so it
 * is built through a wrapper module). Like the upstream image, it also carries etcdctl and
 * etcdutl (go.etcd.io/etcd/etcdctl/v3, etcdutl/v3 at the same version) in /usr/local/bin: the
 * live suite reads raw keys with `kubectl exec etcd-... -- etcdctl` to prove encryption at rest.
 */
import { join } from "node:path";
import type { Recipe } from "../recipe.ts";
import { debianBaseRef } from "../base/debian.ts";
import { imageConfig } from "../lib/config.ts";
import { debianPackagesOfImage, dockerBuild } from "../lib/docker.ts";
import { goVersion, modulesOfBinaries } from "../lib/go.ts";
import { buildGoBinaries } from "../lib/gorecipe.ts";
import { fileInputs } from "../lib/hash.ts";
import { freshContext, place } from "./context.ts";
import { kubeadmImages, refFor, tagOf } from "./kubeadm.ts";

export const etcd: Recipe = {
  name: "etcd",
  dependsOn: ["debian-base", "k8s-binaries"],
  inputs: () => [`kubernetes=${imageConfig().kubernetesVersion}`, `go=${goVersion()}`, ...fileInputs(import.meta.url, "./etcd.ts")],
  async build(ctx) {
    const ref = refFor(await kubeadmImages(ctx), "etcd");
    const version = "v" + tagOf(ref).replace(/-\d+$/, ""); // 3.6.5-0 → v3.6.5
    const main = "go.etcd.io/etcd/server/v3";
    const { files } = await buildGoBinaries(
      ctx,
      {
        name: "etcd",
        module: main,
        version,
        mains: [main, "go.etcd.io/etcd/etcdctl/v3", "go.etcd.io/etcd/etcdutl/v3"],
        extraRequire: (v) => [
          ["go.etcd.io/etcd/etcdctl/v3", v],
          ["go.etcd.io/etcd/etcdutl/v3", v],
        ],
        rename: { [main]: "etcd" },
        ldflags: () => "-s -w",
        recipeFile: import.meta.url,
      },
      version,
    );
    const binary = files.etcd ?? "";
    const dir = freshContext(join(ctx.workDir, "image"));
    for (const b of ["etcd", "etcdctl", "etcdutl"]) place(files[b] ?? "", dir, b);
    ctx.log(`image ${ref}`);
    const digest = await dockerBuild(ctx, {
      contextDir: dir,
      tags: [ref],
      dockerfile: [`FROM ${debianBaseRef(ctx.deps)}`, "COPY etcd etcdctl etcdutl /usr/local/bin/", 'CMD ["/usr/local/bin/etcd"]', ""].join("\n"),
    });
    return {
      images: [{ role: "etcd", ref, digest, goModules: modulesOfBinaries([binary, files.etcdctl ?? "", files.etcdutl ?? ""]), debianPackages: await debianPackagesOfImage(ctx, ref) }],
      files,
    };
  },
};
