/**
 * Recipe `k8s-binaries`: kubeadm, kubelet, kubectl, kube-apiserver, kube-controller-manager,
 * kube-scheduler and kube-proxy from k8s.io/kubernetes at the configured version, in ONE
 * `go build` (shared packages compile once). k8s.io/kubernetes requires its staging modules
 * at v0.0.0 and replaces them with ./staging/...; the wrapper replaces each with the
 * published v0.<minor>.<patch> module — the list is generated from that release's go.mod.
 * Flags follow hack/lib/golang.sh (CGO_ENABLED=0 for these binaries, tags selinux,notest)
 * and hack/lib/version.sh (-X version variables in client-go and component-base).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Recipe } from "../recipe.ts";
import { imageConfig, kubernetesParts } from "../lib/config.ts";
import { downloadModule, goBuild, goVersion, localReplaces, prepareWrapperModule } from "../lib/go.ts";
import { fileInputs } from "../lib/hash.ts";
import { installFile } from "../lib/paths.ts";

export const K8S_BINARIES = [
  "kubeadm",
  "kubelet",
  "kubectl",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
] as const;

/** ldflags of hack/lib/version.sh; buildDate is the release's proxy timestamp (reproducible). */
export function versionLdflags(version: string, buildDate: string): string {
  const { major, minor } = kubernetesParts(version);
  const vars: Array<[string, string]> = [
    ["buildDate", buildDate],
    ["gitVersion", version],
    ["gitMajor", major],
    ["gitMinor", minor],
    ["gitTreeState", "clean"],
  ];
  const x = vars.flatMap(([k, v]) => [
    `-X 'k8s.io/client-go/pkg/version.${k}=${v}'`,
    `-X 'k8s.io/component-base/version.${k}=${v}'`,
  ]);
  return ["-s", "-w", ...x].join(" ");
}

export const k8sBinaries: Recipe = {
  name: "k8s-binaries",
  inputs: () => [
    `kubernetes=${imageConfig().kubernetesVersion}`,
    `go=${goVersion()}`,
    ...fileInputs(import.meta.url, "./k8s-binaries.ts"),
  ],
  async build(ctx) {
    const version = imageConfig().kubernetesVersion;
    const { staging } = kubernetesParts(version);
    ctx.log(`go mod download k8s.io/kubernetes@${version}`);
    const mod = await downloadModule(ctx, "k8s.io/kubernetes", version);
    const upstreamGoMod = readFileSync(mod.GoMod, "utf8");
    const replace = localReplaces(upstreamGoMod)
      .filter(([, to]) => to.startsWith("./staging/"))
      .map(([from]): [string, string, string] => [from, from, staging]);
    if (replace.length < 10) throw new Error(`expected the staging replace block in k8s.io/kubernetes@${version} go.mod, found ${replace.length} entries`);
    const src = join(ctx.workDir, "src");
    await prepareWrapperModule(ctx, src, {
      module: "pci-harness.dev/k8s-binaries",
      goVersion: /^go (\S+)/m.exec(upstreamGoMod)?.[1] ?? "1.24",
      require: [["k8s.io/kubernetes", version]],
      replace,
      mains: K8S_BINARIES.map((b) => `k8s.io/kubernetes/cmd/${b}`),
    });
    const buildDate = (JSON.parse(readFileSync(mod.Info, "utf8")) as { Time: string }).Time.replace(/\.\d+Z$/, "Z");
    const out = join(ctx.workDir, "out");
    mkdirSync(out, { recursive: true });
    ctx.log(`go build ${K8S_BINARIES.join(" ")} (the long one: ≈13 min cold on 2 shared cores)`);
    await goBuild(ctx, {
      dir: src,
      packages: K8S_BINARIES.map((b) => `k8s.io/kubernetes/cmd/${b}`),
      out: out + "/",
      tags: ["selinux", "notest"],
      ldflags: versionLdflags(version, buildDate),
    });
    const files: Record<string, string> = {};
    for (const b of K8S_BINARIES) files[b] = join(out, b);
    const reported = await ctx.run(files.kubeadm ?? "", ["version", "-o", "short"]);
    if (reported.trim() !== version) throw new Error(`kubeadm reports ${reported.trim()}, expected ${version}: version ldflags not applied`);
    // The harness runs kubectl from $CACHE/bin.
    installFile(join(out, "kubectl"), join(ctx.binDir, "kubectl"));
    files["bin/kubectl"] = join(ctx.binDir, "kubectl");
    return { images: [], files };
  },
};
