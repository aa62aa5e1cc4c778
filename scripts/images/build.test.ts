import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildImages, loadRecord, RecipeFailure } from "./build.ts";
import type { BuildContext, Recipe } from "./recipe.ts";
import { buildOrder } from "./lib/graph.ts";
import { localReplaces } from "./lib/go.ts";
import { kindBasePackages } from "./node/node-base.ts";
import { kindDefaultCniManifest } from "./node/node-image.ts";
import { refFor, tagOf } from "./node/kubeadm.ts";
import { kubernetesParts, setImageConfig } from "./lib/config.ts";
import { recipes, recipesForCnis } from "./recipes.ts";

let cache: string;
beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), "pci-images-"));
  process.env.PCI_HARNESS_CACHE = cache;
});
afterEach(() => {
  rmSync(cache, { recursive: true, force: true });
  delete process.env.PCI_HARNESS_CACHE;
});

/** File-producing recipes that count their builds. */
function fileRecipe(name: string, input: () => string, dependsOn: string[] = [], calls: string[] = []): Recipe {
  return {
    name,
    dependsOn,
    inputs: () => [input()],
    async build(ctx) {
      calls.push(name);
      const f = join(ctx.workDir, `${name}.txt`);
      await ctx.run("sh", ["-c", `echo ${name} > "${f}"`]);
      return { images: [], files: { [name]: f } };
    },
  };
}

describe("buildOrder", () => {
  const r = (name: string, dependsOn: string[] = []): Recipe => ({ name, dependsOn, inputs: () => [], build: async () => ({ images: [], files: {} }) });
  it("puts dependencies first and only what the wanted recipes need", () => {
    const order = buildOrder([r("node", ["base", "bins"]), r("bins"), r("base"), r("other")], ["node"]).map((x) => x.name);
    expect(order).toEqual(["base", "bins", "node"]);
  });
  it("rejects cycles and unknown names", () => {
    expect(() => buildOrder([r("a", ["b"]), r("b", ["a"])], [])).toThrow(/cycle: a → b → a/);
    expect(() => buildOrder([r("a", ["zzz"])], [])).toThrow(/unknown recipe zzz/);
    expect(() => buildOrder([r("a")], ["nope"])).toThrow(/unknown recipe "nope"/);
  });
});

describe("buildImages", () => {
  it("builds once, skips when unchanged, rebuilds dependents when an input or output changes", async () => {
    let baseInput = "v1";
    const calls: string[] = [];
    const registry = [fileRecipe("base", () => baseInput, [], calls), fileRecipe("top", () => "t", ["base"], calls)];
    await buildImages({ registry });
    expect(calls).toEqual(["base", "top"]);

    await buildImages({ registry });
    expect(calls).toEqual(["base", "top"]); // warm: nothing rebuilt

    baseInput = "v2"; // dep key changes → dependent's key changes too
    await buildImages({ registry });
    expect(calls).toEqual(["base", "top", "base", "top"]);

    const rec = loadRecord();
    rmSync(rec?.files.top?.path ?? "");
    await buildImages({ registry }); // output missing → rebuild only that one
    expect(calls.slice(4)).toEqual(["top"]);

    await buildImages({ registry, recipes: ["base"], force: true });
    expect(calls.slice(5)).toEqual(["base"]);

    const stamp = JSON.parse(readFileSync(join(cache, "images/stamps/top.json"), "utf8"));
    expect(stamp.key).toMatch(/^[0-9a-f]{64}$/);
    expect(stamp.output.files.top).toContain("work/top/top.txt");
    expect(existsSync(join(cache, "images/record.md"))).toBe(true);
    expect(Object.keys(loadRecord()?.files ?? {}).sort()).toEqual(["base", "top"]);
  });

  it("a fully cached selection returns at once while another build holds the lock; one with work waits for it", async () => {
    const calls: string[] = [];
    const registry = [fileRecipe("base", () => "b", [], calls), fileRecipe("cni-a", () => "a", ["base"], calls), fileRecipe("cni-b", () => "b", ["base"], calls)];
    await buildImages({ registry, recipes: ["cni-a"] });
    expect(calls).toEqual(["base", "cni-a"]);
    // Another live process (this one) holds the lock, as a background Cilium build would.
    writeFileSync(join(cache, "images/build.lock"), String(process.pid));
    const t0 = Date.now();
    const rec = await buildImages({ registry, recipes: ["cni-a"] });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(rec.recipes.map((r) => r.name).sort()).toEqual(["base", "cni-a"]);
    expect(calls).toEqual(["base", "cni-a"]);
    // cni-b is not built yet: that build must wait for the lock, not run beside the holder.
    const waiting = buildImages({ registry, recipes: ["cni-b"] });
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toEqual(["base", "cni-a"]);
    rmSync(join(cache, "images/build.lock"));
    await waiting;
    expect(calls).toEqual(["base", "cni-a", "cni-b"]);
    expect(Object.keys(loadRecord()?.files ?? {}).sort()).toEqual(["base", "cni-a", "cni-b"]);
  }, 20_000);

  it("names the failing recipe and keeps its log", async () => {
    const broken: Recipe = {
      name: "broken",
      inputs: () => [],
      build: async (ctx: BuildContext) => ctx.run("sh", ["-c", "echo compiling; echo 'boom: missing header' >&2; exit 3"]),
    } as unknown as Recipe;
    const err = await buildImages({ registry: [broken] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecipeFailure);
    expect((err as RecipeFailure).recipe).toBe("broken");
    expect((err as RecipeFailure).message).toMatch(/exit 3[\s\S]*boom: missing header/);
    expect(readFileSync(join(cache, "logs/broken.log"), "utf8")).toContain("compiling");
    expect(existsSync(join(cache, "images/stamps/broken.json"))).toBe(false);
  });
});

describe("recipesForCnis", () => {
  it("gives a lane every recipe but the other CNI's", () => {
    const all = recipes.map((r) => r.name);
    expect(recipesForCnis(["calico"])).toEqual(all.filter((n) => n !== "cilium"));
    expect(recipesForCnis(["cilium"])).toEqual(all.filter((n) => n !== "calico"));
    expect(recipesForCnis(["calico", "cilium"])).toEqual(all);
    expect(recipesForCnis(["calico"])).toContain("otelcol");
  });
});

describe("upstream source parsing", () => {
  it("turns the staging replace block of k8s.io/kubernetes go.mod into module list", () => {
    const gomod = "module k8s.io/kubernetes\n\nrequire k8s.io/api v0.0.0\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/client-go => ./staging/src/k8s.io/client-go\n\tgithub.com/x/y => github.com/x/z v1.0.0\n)\n";
    expect(localReplaces(gomod)).toEqual([
      ["k8s.io/api", "./staging/src/k8s.io/api"],
      ["k8s.io/client-go", "./staging/src/k8s.io/client-go"],
    ]);
  });
  it("reads kind's base package list from its Dockerfile", () => {
    const df = 'RUN chmod 755 /kind/bin && \\\n    echo "Installing Packages ..." \\\n    && DEBIAN_FRONTEND=noninteractive clean-install \\\n      systemd \\\n      conntrack iptables \\\n      bash ca-certificates \\\n    && find /lib/systemd\n';
    expect(kindBasePackages(df)).toEqual(["systemd", "conntrack", "iptables", "bash", "ca-certificates"]);
  });
  it("evaluates kind's default CNI manifest constant with its image", () => {
    const go = 'package x\nconst kindnetdImage = "docker.io/kindest/kindnetd:v1"\nconst defaultCNIManifest = `\nkind: DaemonSet\n        image: ` + kindnetdImage + `\n        name: kindnet\n`\n';
    const { manifest, images } = kindDefaultCniManifest(go);
    expect(manifest).toContain("image: docker.io/kindest/kindnetd:v1\n        name: kindnet");
    expect(images).toEqual(["docker.io/kindest/kindnetd:v1"]);
  });
});

describe("versions and kubeadm image refs", () => {
  it("maps a Kubernetes release to its staging module version", () => {
    expect(kubernetesParts("v1.34.12")).toEqual({ major: "1", minor: "34", patch: "12", staging: "v0.34.12" });
    expect(() => setImageConfig({ kubernetesVersion: "1.34" })).toThrow(/must look like v1.34.12/);
  });
  it("finds each component in `kubeadm config images list` output by repository name", () => {
    const list = [
      "registry.k8s.io/kube-apiserver:v1.34.12",
      "registry.k8s.io/kube-proxy:v1.34.12",
      "registry.k8s.io/coredns/coredns:v1.12.1",
      "registry.k8s.io/pause:3.10.1",
      "registry.k8s.io/etcd:3.6.5-0",
    ];
    expect(refFor(list, "etcd")).toBe("registry.k8s.io/etcd:3.6.5-0");
    expect(refFor(list, "coredns")).toBe("registry.k8s.io/coredns/coredns:v1.12.1");
    expect(tagOf(refFor(list, "etcd"))).toBe("3.6.5-0");
    expect(() => refFor(list, "kube-scheduler")).toThrow(/has no kube-scheduler/);
  });
});
