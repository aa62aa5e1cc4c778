/**
 * Every image recipe, one import line each. build.ts orders them by dependsOn.
 * Addon recipes (calico, kyverno, probe, server, signing) add their line below.
 */
import type { Recipe } from "./recipe.ts";
import { debianBase } from "./base/debian.ts";
import { kyvernoCli } from "./kyverno/cli.ts";
import { helm } from "./kyverno/helm.ts";
import { kyverno } from "./kyverno/images.ts";
import { probe } from "./probe/recipe.ts";
import { server } from "./server/recipe.ts";

export const recipes: Recipe[] = [
  debianBase,
  kyvernoCli,
  helm,
  kyverno,
  probe,
  server,
];
