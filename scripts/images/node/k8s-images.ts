/**
 * Recipe `k8s-images`: kube-apiserver, kube-controller-manager, kube-scheduler and kube-proxy
 * images tagged with the exact refs `kubeadm config images list` prints, so kubeadm finds
 * them in the node's containerd and never pulls. Binaries sit at /usr/local/bin/<name> on
 * the Debian base (upstream uses distroless; the Debian base is what we can build here).
 * kube-proxy also gets iptables/conntrack/ipset and an iptables mode wrapper, like
 * upstream's distroless-iptables image (kubernetes-sigs/iptables-wrappers semantics).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ImageRecord, Recipe } from "../recipe.ts";
import { debianBaseRef } from "../base/debian.ts";
import { imageConfig } from "../lib/config.ts";
import { debianPackagesOfImage, dockerBuild } from "../lib/docker.ts";
import { modulesOfBinary } from "../lib/go.ts";
import { fileInputs } from "../lib/hash.ts";
import { depFile, kubeadmImages, refFor } from "./kubeadm.ts";
import { freshContext, place } from "./context.ts";

const CONTROL_PLANE = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;

/**
 * Picks iptables-legacy or iptables-nft by which one already holds rules in this network
 * namespace (the node's), then re-points the alternatives and re-execs. Logic of
 * kubernetes-sigs/iptables-wrappers iptables-wrapper-installer.sh.
 */
const IPTABLES_WRAPPER = `#!/bin/sh
set -e
num_legacy_lines=$( (iptables-legacy-save || true; ip6tables-legacy-save || true) 2>/dev/null | grep -c '^-' || true)
if [ "\${num_legacy_lines}" -ge 10 ]; then
  mode=legacy
else
  num_nft_lines=$( (timeout 5 sh -c "iptables-nft-save; ip6tables-nft-save" || true) 2>/dev/null | grep -c '^-' || true)
  if [ "\${num_legacy_lines}" -gt "\${num_nft_lines}" ]; then mode=legacy; else mode=nft; fi
fi
for cmd in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sf "xtables-\${mode}-multi" "/usr/sbin/\${cmd}"
done
exec "$0" "$@"
`;

export const k8sImages: Recipe = {
  name: "k8s-images",
  dependsOn: ["debian-base", "k8s-binaries"],
  inputs: () => [`kubernetes=${imageConfig().kubernetesVersion}`, ...fileInputs(import.meta.url, "./k8s-images.ts", "./kubeadm.ts")],
  async build(ctx) {
    const base = debianBaseRef(ctx.deps);
    const wanted = await kubeadmImages(ctx);
    const images: ImageRecord[] = [];
    for (const name of [...CONTROL_PLANE, "kube-proxy"] as const) {
      const ref = refFor(wanted, name);
      const binary = depFile(ctx.deps, "k8s-binaries", name);
      const dir = freshContext(join(ctx.workDir, name));
      place(binary, dir, name);
      const lines = [`FROM ${base}`];
      if (name === "kube-proxy") {
        writeFileSync(join(dir, "iptables-wrapper"), IPTABLES_WRAPPER, { mode: 0o755 });
        lines.push(
          "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables conntrack ipset kmod \\",
          "    && apt-get clean && rm -rf /var/lib/apt/lists/*",
          "COPY iptables-wrapper /usr/sbin/iptables-wrapper",
          "RUN for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do ln -sf iptables-wrapper /usr/sbin/$c; done",
        );
      }
      lines.push(`COPY ${name} /usr/local/bin/${name}`, `ENTRYPOINT ["/usr/local/bin/${name}"]`, "");
      ctx.log(`image ${ref}`);
      const digest = await dockerBuild(ctx, { contextDir: dir, tags: [ref], dockerfile: lines.join("\n") });
      images.push({
        role: name,
        ref,
        digest,
        goModules: modulesOfBinary(binary),
        debianPackages: await debianPackagesOfImage(ctx, ref),
      });
    }
    return { images, files: {} };
  },
};
