/**
 * server: the harness's own test workload (main.go in this directory, standard
 * library only) as a FROM-scratch image running as uid 65532. Usage in a pod:
 * args ["--listen", "8443", "--listen", "9443"]; every port answers HTTP and
 * HTTPS with 200 and {hostname, port, tls, remote}.
 */
import { cp, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BuildContext, Recipe, RecipeOutput } from '../recipe.ts';
import { buildImage, freshContext, imageId } from '../kyverno/docker.ts';
import { goBuild, goToolchain } from '../kyverno/gomodule.ts';
import { fileContents } from '../kyverno/recipe-files.ts';
import { goVersion } from '../lib/go.ts';

export const SERVER_REF = 'localhost/pci-harness/server:v1';

export const server: Recipe = {
  name: 'server',
  inputs: async () => [
    await goToolchain(),
    ...(await fileContents(import.meta.url, ['recipe.ts', 'main.go', 'go.mod', '../kyverno/docker.ts', '../kyverno/gomodule.ts'])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const dir = await freshContext(`${ctx.workDir}/image`);
    const src = fileURLToPath(new URL('.', import.meta.url));
    await mkdir(`${ctx.workDir}/src`, { recursive: true });
    for (const f of ['main.go', 'go.mod']) await cp(`${src}/${f}`, `${ctx.workDir}/src/${f}`);
    await goBuild(ctx, { cwd: `${ctx.workDir}/src`, packages: ['.'], output: `${dir}/server` });
    await buildImage(ctx, {
      refs: [SERVER_REF],
      contextDir: dir,
      dockerfile: ['FROM scratch', 'COPY server /server', 'USER 65532:65532', 'ENTRYPOINT ["/server"]', 'CMD ["--listen", "8080"]', ''].join('\n'),
    });
    return {
      images: [{ role: 'server', ref: SERVER_REF, digest: await imageId(ctx, SERVER_REF), goModules: [{ module: 'std', version: goVersion() }] }],
      files: {},
    };
  },
};
