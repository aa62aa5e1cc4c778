/**
 * Every image recipe, one import line each. build.ts orders them by dependsOn.
 * Addon recipes (calico, kyverno, probe, server, signing) add their line below.
 */
import type { Recipe } from "./recipe.ts";
import { debianBase } from "./base/debian.ts";
import { k8sBinaries } from "./node/k8s-binaries.ts";
import { k8sImages } from "./node/k8s-images.ts";
import { etcd } from "./node/etcd.ts";
import { coredns } from "./node/coredns.ts";
import { pause } from "./node/pause.ts";
import { kind } from "./node/kind.ts";
import { containerd, cniPlugins, crictl } from "./node/runtime.ts";
import { kindNodeBase } from "./node/node-base.ts";
import { kindNode } from "./node/node-image.ts";
import { kyvernoCli } from "./kyverno/cli.ts";
import { helm } from "./kyverno/helm.ts";
import { kyverno } from "./kyverno/images.ts";
import { probe } from "./probe/recipe.ts";
import { calico } from "./calico/recipe.ts";
import { cilium } from "./cilium/recipe.ts";
import { signing } from "./signing/recipe.ts";
import { server } from "./server/recipe.ts";
import { otelcol } from "./otelcol/recipe.ts";
import { auditStore } from "./audit-store/recipe.ts";

export const recipes: Recipe[] = [
  debianBase,
  k8sBinaries,
  k8sImages,
  etcd,
  coredns,
  pause,
  kind,
  containerd,
  cniPlugins,
  crictl,
  kindNodeBase,
  kindNode,
  kyvernoCli,
  helm,
  kyverno,
  probe,
  calico,
  cilium,
  signing,
  server,
  otelcol,
  auditStore,
];

/** The live lane's CNIs and the recipe that is each one's own (everything else every lane needs). */
export type LaneCni = "calico" | "cilium";
export const CNI_RECIPES: Record<LaneCni, string> = { calico: "calico", cilium: "cilium" };

/**
 * The recipes a live lane on these CNIs needs: every recipe but the other CNI's. A Calico run
 * never waits for the Cilium agent's compile (and `.ci/run` builds that one in the background).
 */
export function recipesForCnis(cnis: LaneCni[], registry: Recipe[] = recipes): string[] {
  const others = new Set((Object.keys(CNI_RECIPES) as LaneCni[]).filter((c) => !cnis.includes(c)).map((c) => CNI_RECIPES[c]));
  return registry.map((r) => r.name).filter((name) => !others.has(name));
}
