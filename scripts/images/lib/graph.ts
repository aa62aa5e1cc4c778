/** Dependency order over recipes: each recipe after everything it depends on. */
import type { Recipe } from "../recipe.ts";

/** Recipes needed for `wanted` (all when empty), dependencies first; throws on cycles/unknown names. */
export function buildOrder(all: Recipe[], wanted: string[]): Recipe[] {
  const byName = new Map(all.map((r) => [r.name, r]));
  for (const r of all) {
    for (const d of r.dependsOn ?? []) {
      if (!byName.has(d)) throw new Error(`recipe ${r.name} depends on unknown recipe ${d}`);
    }
  }
  const roots = wanted.length ? wanted : all.map((r) => r.name);
  const order: Recipe[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    const r = byName.get(name);
    if (!r) throw new Error(`unknown recipe "${name}" (known: ${[...byName.keys()].join(", ")})`);
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new Error(`recipe cycle: ${[...path, name].join(" → ")}`);
    state.set(name, "visiting");
    for (const d of r.dependsOn ?? []) visit(d, [...path, name]);
    state.set(name, "done");
    order.push(r);
  };
  for (const n of roots) visit(n, []);
  return order;
}
