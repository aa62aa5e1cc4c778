/**
 * Recipe `kind-node`: the kind node image, made the way kind's `build node-image` does
 * (sigs.k8s.io/kind pkg/build/nodeimage/buildcontext.go) but without any registry:
 *  1. run the base image with `sleep infinity`;
 *  2. copy kubeadm, kubelet, kubectl to /usr/bin, write /kind/version and
 *     /kind/manifests/default-cni.yaml (kind's own manifest, extracted from its source);
 *  3. start containerd inside and `ctr -n k8s.io images import` every component image with
 *     its exact upstream ref (kind's importer flags), then check every ref kubeadm needs;
 *  4. stop containerd and `docker commit` with the base entrypoint.
 * `kind create cluster --image <ref>` then pulls nothing: kubeadm preflight is skipped and
 * every image it needs is already in containerd's k8s.io namespace.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildContext, Recipe } from "../recipe.ts";
import { imageConfig } from "../lib/config.ts";
import { labelChanges, imageId, shortKey } from "../lib/docker.ts";
import { downloadModule, modulesOfBinaries } from "../lib/go.ts";
import { fileInputs } from "../lib/hash.ts";
import { depFile, kubeadmImages } from "./kubeadm.ts";
import { KIND_VERSION } from "./kind.ts";
import { kindSandboxImage } from "./pause.ts";

/** Evaluates `const defaultCNIManifest = \`...\` + kindnetdImage + \`...\`` from kind's const_cni.go. */
export function kindDefaultCniManifest(constCniGo: string): { manifest: string; images: string[] } {
  const consts = new Map<string, string>();
  for (const m of constCniGo.matchAll(/const (\w+) = "([^"]*)"/g)) consts.set(m[1] ?? "", m[2] ?? "");
  const start = constCniGo.indexOf("const defaultCNIManifest = ");
  if (start < 0) throw new Error("kind const_cni.go: defaultCNIManifest not found");
  let i = start + "const defaultCNIManifest = ".length;
  let manifest = "";
  for (;;) {
    while (/\s/.test(constCniGo[i] ?? "")) i++;
    if (constCniGo[i] === "`") {
      const end = constCniGo.indexOf("`", i + 1);
      manifest += constCniGo.slice(i + 1, end);
      i = end + 1;
    } else {
      const id = /^\w+/.exec(constCniGo.slice(i))?.[0] ?? "";
      const v = consts.get(id);
      if (v === undefined) throw new Error(`kind const_cni.go: unknown constant ${id}`);
      manifest += v;
      i += id.length;
    }
    while (/[ \t]/.test(constCniGo[i] ?? "")) i++;
    if (constCniGo[i] !== "+") break;
    i++;
  }
  const images = [...manifest.matchAll(/image:\s*(\S+)/g)].map((m) => m[1] ?? "");
  return { manifest, images };
}

async function exec(ctx: BuildContext, container: string, script: string, input?: string): Promise<string> {
  return ctx.run("docker", ["exec", ...(input === undefined ? [] : ["-i"]), container, "bash", "-c", script], { input });
}

export const kindNode: Recipe = {
  name: "kind-node",
  // `kind` is not needed to build the image; listed so `build.ts kind-node` yields everything
  // `kind create cluster` needs ($CACHE/bin/kind, $CACHE/bin/kubectl, the node image).
  dependsOn: ["kind-node-base", "k8s-binaries", "k8s-images", "etcd", "coredns", "pause", "kind"],
  inputs: () => [`kubernetes=${imageConfig().kubernetesVersion}`, `kind=${KIND_VERSION}`, ...fileInputs(import.meta.url, "./node-image.ts")],
  async build(ctx) {
    const version = imageConfig().kubernetesVersion;
    const base = ctx.deps["kind-node-base"]?.images[0];
    if (!base) throw new Error("kind-node-base produced no image");
    const kindMod = await downloadModule(ctx, "sigs.k8s.io/kind", KIND_VERSION);
    const cni = kindDefaultCniManifest(readFileSync(join(kindMod.Dir, "pkg/build/nodeimage/const_cni.go"), "utf8"));

    // Everything we built that goes into containerd, saved in one archive (shared layers once).
    const componentRefs = ["k8s-images", "etcd", "coredns", "pause"].flatMap((r) => ctx.deps[r]?.images.map((i) => i.ref) ?? []);
    const archive = join(ctx.workDir, "images.tar");
    ctx.log(`docker save ${componentRefs.length} images`);
    await ctx.run("docker", ["save", "-o", archive, ...componentRefs]);

    const container = `kind-build-${shortKey(ctx)}-${process.pid}`;
    await ctx.run("docker", ["rm", "-f", container]).catch(() => "");
    await ctx.run("docker", ["run", "-d", "--entrypoint=sleep", `--name=${container}`, "--security-opt", "seccomp=unconfined", base.ref, "infinity"]);
    try {
      ctx.log("copy kubeadm kubelet kubectl, write /kind/version and default CNI manifest");
      for (const b of ["kubeadm", "kubelet", "kubectl"]) {
        await ctx.run("docker", ["cp", depFile(ctx.deps, "k8s-binaries", b), `${container}:/usr/bin/${b}`]);
        await exec(ctx, container, `chmod +x /usr/bin/${b} && chown root:root /usr/bin/${b}`);
      }
      await exec(ctx, container, "cat > /kind/version", version);
      await exec(ctx, container, "mkdir -p /kind/manifests && cat > /kind/manifests/default-cni.yaml", cni.manifest);

      // Required refs: kubeadm's list with pause swapped for containerd's sandbox image (as kind does).
      const sandbox = kindSandboxImage(kindMod.Dir);
      const required = [...(await kubeadmImages(ctx)).filter((i) => !i.includes("pause")), sandbox];

      ctx.log("start containerd, import images into k8s.io namespace");
      await exec(ctx, container, "nohup containerd > /var/log/containerd-build.log 2>&1 &");
      await exec(ctx, container, "for i in $(seq 1 30); do [ -S /run/containerd/containerd.sock ] && ctr info >/dev/null && exit 0; sleep 1; done; cat /var/log/containerd-build.log; exit 1");
      // kind pkg/build/nodeimage/imageimporter.go LoadCommand flags.
      await ctx.run("sh", [
        "-c",
        `docker exec -i "$1" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - < "$2"`,
        "sh",
        container,
        archive,
      ]);
      const listed = (await exec(ctx, container, "ctr --namespace=k8s.io images list -q")).split("\n").map((l) => l.trim());
      const missing = required.filter((r) => !listed.includes(r));
      if (missing.length) throw new Error(`node image would pull these at cluster creation (not imported): ${missing.join(", ")}`);
      const absentCni = cni.images.filter((r) => !listed.includes(r));
      if (absentCni.length) {
        ctx.log(`WARNING: default CNI image(s) not built, use disableDefaultCNI: true: ${absentCni.join(", ")}`);
      }
      writeFileSync(join(ctx.workDir, "images.txt"), listed.filter(Boolean).join("\n") + "\n");
      // `sleep` is PID 1 and never reaps, so an exited containerd lingers as a zombie: wait for
      // no live (non-Z) containerd, i.e. its metadata DB is closed before the commit.
      await exec(ctx, container, "pkill -x containerd; for i in $(seq 1 40); do ps -C containerd -o stat= | grep -qv '^Z' || exit 0; sleep 0.5; done; exit 1");

      const ref = `pci-harness/kind-node:${version}-${shortKey(ctx)}`;
      ctx.log(`docker commit → ${ref}`);
      await ctx.run("docker", [
        "commit",
        "--change",
        'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]',
        ...labelChanges(ctx),
        "--change",
        `LABEL pci-harness.dev/kubernetes-version=${version}`,
        container,
        ref,
      ]);
      const digest = imageId(ref);
      if (!digest) throw new Error(`docker commit produced no ${ref}`);
      const k8sBins = ["kubeadm", "kubelet", "kubectl"].map((b) => depFile(ctx.deps, "k8s-binaries", b));
      const goModules = modulesOfBinaries(k8sBins);
      const seen = new Set(goModules.map((m) => `${m.module}@${m.version}`));
      for (const m of base.goModules ?? []) if (!seen.has(`${m.module}@${m.version}`)) goModules.push(m);
      goModules.sort((a, b) => a.module.localeCompare(b.module));
      return {
        images: [{ role: "node", ref, digest, goModules, debianPackages: base.debianPackages }],
        files: { "kind-node-images": join(ctx.workDir, "images.txt") },
      };
    } finally {
      await ctx.run("docker", ["rm", "-f", container]).catch(() => "");
      rmSync(archive, { force: true });
    }
  },
};
