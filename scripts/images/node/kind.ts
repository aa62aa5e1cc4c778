/**
 * Recipe `kind`: the kind CLI from sigs.k8s.io/kind, also installed as $CACHE/bin/kind.
 * v0.31.x is the last release on a Debian bookworm base (v0.32 moved to trixie, whose
 * systemd refuses cgroup v1 — this machine's kernel runs cgroup v1).
 */
import { goBinaryRecipe } from "../lib/gorecipe.ts";

export const KIND_VERSION = "v0.31.0";

export const kind = goBinaryRecipe({
  name: "kind",
  module: "sigs.k8s.io/kind",
  version: KIND_VERSION,
  mains: ["sigs.k8s.io/kind"],
  installToBin: ["kind"],
  recipeFile: import.meta.url,
});
