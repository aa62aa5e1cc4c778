/**
 * kyverno-cli: the `kyverno` CLI (offline lane: `kyverno apply` / `kyverno test`)
 * and the CRD directory, from the Kyverno Go module. go.mod has replace
 * directives, so `go install mod@version` refuses it; build inside a writable
 * copy of the module instead (shared/reference/airgap-cluster.md).
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import type { BuildContext, Recipe, RecipeOutput } from '../recipe.ts';
import { downloadModule, goBuild, writableCopy, goToolchain } from './gomodule.ts';
import { fileContents } from './recipe-files.ts';
import { KYVERNO, KYVERNO_LDFLAGS } from './versions.ts';

export const kyvernoCli: Recipe = {
  name: 'kyverno-cli',
  needsDocker: false,
  inputs: async () => [
    await goToolchain(),
    `${KYVERNO.module}@${KYVERNO.version} ${KYVERNO.sum}`,
    ...(await fileContents(import.meta.url, ['cli.ts', 'gomodule.ts', 'versions.ts', 'recipe-files.ts'])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const mod = await downloadModule(ctx, KYVERNO);
    const src = await writableCopy(mod.dir, `${ctx.workDir}/src`);
    ctx.log(`building kubectl-kyverno ${KYVERNO.version}`);
    await mkdir(ctx.binDir, { recursive: true });
    const binary = `${ctx.binDir}/kyverno`;
    await goBuild(ctx, { cwd: src, packages: ['./cmd/cli/kubectl-kyverno'], output: binary, ldflags: KYVERNO_LDFLAGS });
    const version = await ctx.run(binary, ['version']);
    if (!version.includes(KYVERNO.version)) throw new Error(`built kyverno CLI reports an unexpected version:\n${version}`);

    // CRDs live outside the scratch copy so a rebuild of the source never leaves them half-copied.
    const crds = `${ctx.cacheDir}/addons/kyverno-${KYVERNO.version}/crds`;
    await rm(crds, { recursive: true, force: true });
    await mkdir(crds, { recursive: true });
    await cp(`${src}/config/crds`, crds, { recursive: true });
    return { images: [], files: { kyverno: binary, 'kyverno-crds': crds } };
  },
};
