/**
 * Recipe `kind-node-base`: kind's base image (sigs.k8s.io/kind images/base/Dockerfile) rebuilt
 * FROM our debootstrapped Debian: the same Debian package list (parsed from that Dockerfile),
 * kind's entrypoint, systemd units and containerd config copied from the kind module source,
 * containerd/ctr/shim, crictl and CNI plugins from our Go builds, and Debian's runc behind a
 * small wrapper (files/runc-boundcaps) for kernels missing capabilities.
 */
import { chmodSync, cpSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Recipe } from "../recipe.ts";
import { debianBaseRef } from "../base/debian.ts";
import { debianPackagesOfImage, dockerBuild, shortKey } from "../lib/docker.ts";
import { downloadModule, modulesOfBinaries } from "../lib/go.ts";
import { fileInputs } from "../lib/hash.ts";
import { freshContext, place } from "./context.ts";
import { depFile } from "./kubeadm.ts";
import { KIND_VERSION } from "./kind.ts";

/** Packages of the `clean-install` line in kind's base Dockerfile. */
export function kindBasePackages(dockerfile: string): string[] {
  const m = /clean-install\s+\\\s*\n([\s\S]*?)&&/.exec(dockerfile);
  if (!m?.[1]) throw new Error("kind base Dockerfile: clean-install package list not found");
  return m[1].split(/[\s\\]+/).filter(Boolean);
}

function chmodTree(dir: string, fileMode: number): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      chmodSync(p, 0o755);
      chmodTree(p, fileMode);
    } else chmodSync(p, fileMode);
  }
}

export const kindNodeBase: Recipe = {
  name: "kind-node-base",
  dependsOn: ["debian-base", "containerd", "crictl", "cni-plugins"],
  inputs: () => [`kind=${KIND_VERSION}`, ...fileInputs(import.meta.url, "./node-base.ts", "./files/runc-boundcaps")],
  async build(ctx) {
    const kind = await downloadModule(ctx, "sigs.k8s.io/kind", KIND_VERSION);
    const baseDir = join(kind.Dir, "images/base");
    const packages = [...kindBasePackages(readFileSync(join(baseDir, "Dockerfile"), "utf8")), "runc"];
    const dir = freshContext(join(ctx.workDir, "context"));
    // Module cache files are read-only; the image wants 0644 data and 0755 executables.
    cpSync(join(baseDir, "files"), join(dir, "files"), { recursive: true });
    chmodSync(join(dir, "files"), 0o755);
    chmodTree(join(dir, "files"), 0o644);
    chmodTree(join(dir, "files/usr/local/bin"), 0o755);
    chmodTree(join(dir, "files/kind/bin"), 0o755);
    const bins = {
      containerd: depFile(ctx.deps, "containerd", "containerd"),
      ctr: depFile(ctx.deps, "containerd", "ctr"),
      "containerd-shim-runc-v2": depFile(ctx.deps, "containerd", "containerd-shim-runc-v2"),
      crictl: depFile(ctx.deps, "crictl", "crictl"),
    };
    for (const [n, p] of Object.entries(bins)) place(p, dir, n);
    cpSync(new URL("./files/runc-boundcaps", import.meta.url), join(dir, "runc-boundcaps"));
    chmodSync(join(dir, "runc-boundcaps"), 0o755);
    const cni = ["host-local", "loopback", "ptp", "portmap", "bridge"].map((n) => depFile(ctx.deps, "cni-plugins", n));
    cni.forEach((p, i) => place(p, dir, `cni-${["host-local", "loopback", "ptp", "portmap", "bridge"][i]}`));

    const ref = `pci-harness/kind-node-base:${KIND_VERSION}-${shortKey(ctx)}`;
    ctx.log(`image ${ref} (${packages.length} Debian packages)`);
    // Steps mirror kind images/base/Dockerfile (v0.31.0) stage "base" + final stage.
    const dockerfile = [
      `FROM ${debianBaseRef(ctx.deps)}`,
      "COPY files/usr/local/bin/ /usr/local/bin/",
      "COPY files/kind/ /kind/",
      "COPY files/etc/ /etc/",
      `RUN echo "Installing Packages ..." \\`,
      `    && DEBIAN_FRONTEND=noninteractive clean-install ${packages.join(" ")} \\`,
      `    && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \\`,
      "    && rm -f /lib/systemd/system/multi-user.target.wants/* \\",
      "    && rm -f /etc/systemd/system/*.wants/* \\",
      "    && rm -f /lib/systemd/system/local-fs.target.wants/* \\",
      "    && rm -f /lib/systemd/system/sockets.target.wants/*udev* \\",
      "    && rm -f /lib/systemd/system/sockets.target.wants/*initctl* \\",
      "    && rm -f /lib/systemd/system/basic.target.wants/* \\",
      `    && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \\`,
      `    && ln -s "$(which systemd)" /sbin/init`,
      "RUN systemctl enable kubelet.service && systemctl enable containerd.service \\",
      "    && systemctl enable undo-mount-hacks.service && systemctl mask systemd-binfmt.service",
      "RUN mkdir -p /etc/kubernetes/manifests",
      "COPY containerd ctr containerd-shim-runc-v2 crictl /usr/local/bin/",
      `RUN ctr oci spec \\`,
      `    | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \\`,
      `    | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json \\`,
      "    && containerd --version && runc --version",
      // Not in kind: this kernel lacks CAP_SYS_RESOURCE, see files/runc-boundcaps. /usr/local/sbin
      // precedes /usr/sbin in containerd's PATH, so the shim runs the wrapper, which execs Debian's runc.
      "COPY runc-boundcaps /usr/local/sbin/runc",
      "RUN mkdir -p /opt/cni/bin",
      ...["host-local", "loopback", "ptp", "portmap", "bridge"].map((n) => `COPY cni-${n} /opt/cni/bin/${n}`),
      "ENV container=docker",
      "STOPSIGNAL SIGRTMIN+3",
      'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]',
      "",
    ].join("\n");
    const digest = await dockerBuild(ctx, { contextDir: dir, tags: [ref], dockerfile });
    return {
      images: [
        {
          role: "kind-node-base",
          ref,
          digest,
          goModules: modulesOfBinaries([...Object.values(bins), ...cni]),
          debianPackages: await debianPackagesOfImage(ctx, ref),
        },
      ],
      files: {},
    };
  },
};
