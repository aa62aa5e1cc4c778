/**
 * Every image recipe, one import line each. build.ts orders them by dependsOn.
 * Addon recipes (calico, kyverno, probe, server, signing) add their line below.
 */
import type { Recipe } from "./recipe.ts";
import { debianBase } from "./base/debian.ts";

export const recipes: Recipe[] = [
  debianBase,
];
