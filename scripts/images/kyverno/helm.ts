/**
 * helm: the Helm 3 CLI from its Go module, used only to render the Kyverno
 * chart (`helm template`) exactly as upstream installs it. No replace
 * directives, but it is built the same way as the others (pinned download,
 * writable copy, go.sum of the module verifies the dependencies).
 */
import { mkdir } from 'node:fs/promises';
import type { BuildContext, Recipe, RecipeOutput } from '../recipe.ts';
import { downloadModule, goBuild, writableCopy, type PinnedModule, goToolchain } from './gomodule.ts';
import { fileContents } from './recipe-files.ts';

export const HELM: PinnedModule = {
  module: 'helm.sh/helm/v3',
  version: 'v3.22.0',
  sum: 'h1:n1if5iQgHYsujPAcO5oonH/KiSNUmqmUF0iGVjSF3AU=',
};

export const helm: Recipe = {
  name: 'helm',
  inputs: async () => [
    await goToolchain(),
    `${HELM.module}@${HELM.version} ${HELM.sum}`,
    ...(await fileContents(import.meta.url, ['helm.ts', 'gomodule.ts', 'recipe-files.ts'])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const mod = await downloadModule(ctx, HELM);
    const src = await writableCopy(mod.dir, `${ctx.workDir}/src`);
    await mkdir(ctx.binDir, { recursive: true });
    const binary = `${ctx.binDir}/helm`;
    ctx.log(`building helm ${HELM.version}`);
    // helm's Makefile stamps the version here; without it `helm version` says v3.x-dev.
    await goBuild(ctx, {
      cwd: src,
      packages: ['./cmd/helm'],
      output: binary,
      ldflags: `-s -w -X helm.sh/helm/v3/internal/version.version=${HELM.version}`,
    });
    const version = await ctx.run(binary, ['version', '--short']);
    if (!version.startsWith(HELM.version)) throw new Error(`built helm reports ${version.trim()}, expected ${HELM.version}`);
    return { images: [], files: { helm: binary } };
  },
};
