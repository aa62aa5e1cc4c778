/** Contents of recipe source files, for Recipe.inputs(): editing a recipe changes its cache key. */
import { readFile } from 'node:fs/promises';

export async function fileContents(base: string, names: string[]): Promise<string[]> {
  return Promise.all(names.map(async (name) => `${name}:\n${await readFile(new URL(name, base), 'utf8')}`));
}
