/**
 * Node runtime binaries, pinned to the versions kind v0.31.0's images/base/Dockerfile uses
 * (containerd v2.2.0, CNI plugins v1.8.0; crictl v1.34.0 because v1.33.0 is not on the
 * proxy). runc comes from Debian (1.1.5) in the node base image.
 */
import { goBinaryRecipe } from "../lib/gorecipe.ts";

export const CONTAINERD_VERSION = "v2.2.0";
export const CNI_PLUGINS_VERSION = "v1.8.0";
export const CRICTL_VERSION = "v1.34.0";

const containerdModule = "github.com/containerd/containerd/v2";

/** containerd, ctr and the runc shim; static (the shim is CGO-free upstream too). */
export const containerd = goBinaryRecipe({
  name: "containerd",
  module: containerdModule,
  version: CONTAINERD_VERSION,
  mains: [`${containerdModule}/cmd/containerd`, `${containerdModule}/cmd/ctr`, `${containerdModule}/cmd/containerd-shim-runc-v2`],
  tags: ["no_btrfs", "no_devmapper", "no_zfs"],
  ldflags: (m) =>
    `-s -w -X ${containerdModule}/version.Version=${m.Version} -X ${containerdModule}/version.Package=github.com/containerd/containerd/v2`,
  recipeFile: import.meta.url,
});

const pluginsModule = "github.com/containernetworking/plugins";

/** host-local, loopback, ptp, portmap (kind's set) plus bridge. */
export const cniPlugins = goBinaryRecipe({
  name: "cni-plugins",
  module: pluginsModule,
  version: CNI_PLUGINS_VERSION,
  mains: ["ipam/host-local", "main/loopback", "main/ptp", "meta/portmap", "main/bridge"].map((p) => `${pluginsModule}/plugins/${p}`),
  ldflags: (m) => `-s -w -X ${pluginsModule}/pkg/utils/buildversion.BuildVersion=${m.Version}`,
  recipeFile: import.meta.url,
});

export const crictl = goBinaryRecipe({
  name: "crictl",
  module: "sigs.k8s.io/cri-tools",
  version: CRICTL_VERSION,
  mains: ["sigs.k8s.io/cri-tools/cmd/crictl"],
  ldflags: (m) => `-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${m.Version}`,
  recipeFile: import.meta.url,
});
