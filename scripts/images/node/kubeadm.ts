/** The images kubeadm will use, as `kubeadm config images list` prints them (exact upstream refs). */
import type { BuildContext, RecipeOutput } from "../recipe.ts";
import { imageConfig } from "../lib/config.ts";

export async function kubeadmImages(ctx: BuildContext): Promise<string[]> {
  const kubeadm = ctx.deps["k8s-binaries"]?.files.kubeadm;
  if (!kubeadm) throw new Error('recipe must depend on "k8s-binaries" to ask kubeadm for its image list');
  const out = await ctx.run(kubeadm, ["config", "images", "list", "--kubernetes-version", imageConfig().kubernetesVersion]);
  return out.split("\n").map((l) => l.trim()).filter(Boolean);
}

/** The ref whose repository ends in /name (e.g. "etcd" → registry.k8s.io/etcd:3.6.5-0). */
export function refFor(images: string[], name: string): string {
  const ref = images.find((i) => i.replace(/:[^:/]+$/, "").endsWith(`/${name}`));
  if (!ref) throw new Error(`kubeadm image list has no ${name}: ${images.join(", ")}`);
  return ref;
}

export function tagOf(ref: string): string {
  return ref.slice(ref.lastIndexOf(":") + 1);
}

export function depFile(deps: Record<string, RecipeOutput>, recipe: string, file: string): string {
  const p = deps[recipe]?.files[file];
  if (!p) throw new Error(`dependency ${recipe} produced no file "${file}"`);
  return p;
}
