/**
 * helm: the Helm 3 CLI from its Go module, used only to render the Kyverno
 * chart (`helm template`) exactly as upstream installs it. No replace
 * directives, but it is built the same way as the others (pinned download,
 * writable copy, go.sum of the module verifies the dependencies).
 */
import { mkdir, readFile } from 'node:fs/promises';
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
  needsDocker: false,
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
    // helm's Makefile stamps its version, and the default Kubernetes version (from the
    // client-go it builds against); without them `helm version` says v3.x-dev and
    // `helm template` assumes Kubernetes v1.20, which charts with a kubeVersion reject.
    const clientGo = /^\s*k8s\.io\/client-go v0\.(\d+)\.\d+/m.exec(await readFile(`${src}/go.mod`, 'utf8'));
    if (!clientGo) throw new Error('helm go.mod: k8s.io/client-go requirement not found');
    const k8s = { major: '1', minor: clientGo[1]! };
    const ldflags = [
      '-s -w',
      `-X helm.sh/helm/v3/internal/version.version=${HELM.version}`,
      ...['pkg/lint/rules', 'pkg/chartutil'].flatMap((pkg) => [
        `-X helm.sh/helm/v3/${pkg}.k8sVersionMajor=${k8s.major}`,
        `-X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${k8s.minor}`,
      ]),
    ].join(' ');
    await goBuild(ctx, { cwd: src, packages: ['./cmd/helm'], output: binary, ldflags });
    const version = await ctx.run(binary, ['version', '--short']);
    if (!version.startsWith(HELM.version)) throw new Error(`built helm reports ${version.trim()}, expected ${HELM.version}`);
    return { images: [], files: { helm: binary } };
  },
};
