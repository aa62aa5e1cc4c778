/**
 * signing: what the image-signing tests need. cosign from its Go module
 * (no replace directives, so it builds like any module) → $CACHE/bin/cosign,
 * and a local OCI registry image from Debian's docker-registry package
 * (distribution 2.8) to push signed images and signatures to.
 */
import { mkdir } from 'node:fs/promises';
import type { BuildContext, Recipe, RecipeOutput } from '../recipe.ts';
import { buildImage, debianPackagesIn, freshContext } from '../kyverno/docker.ts';
import { downloadModule, goBuild, goToolchain, writableCopy, type PinnedModule } from '../kyverno/gomodule.ts';
import { fileContents } from '../kyverno/recipe-files.ts';

export const COSIGN: PinnedModule = {
  module: 'github.com/sigstore/cosign/v2',
  version: 'v2.6.5',
  sum: 'h1:D7kFSWS2HzfD+LpEuBO89D1KfOAODlkWuuhzXS8yzi0=',
};
export const REGISTRY_REF = 'localhost/pci-harness/registry:v1';
/** Debian's docker-registry listens on :5000 and stores under /var/lib/docker-registry (its default config.yml). */
export const REGISTRY_PORT = 5000;

export const signing: Recipe = {
  name: 'signing',
  dependsOn: ['debian-base'],
  inputs: async () => [
    await goToolchain(),
    `${COSIGN.module}@${COSIGN.version} ${COSIGN.sum}`,
    'debian: docker-registry',
    ...(await fileContents(import.meta.url, ['recipe.ts', '../kyverno/docker.ts', '../kyverno/gomodule.ts'])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const baseRef = ctx.deps['debian-base']?.images[0]?.ref;
    if (!baseRef) throw new Error('signing needs the debian-base image');

    const mod = await downloadModule(ctx, COSIGN);
    const src = await writableCopy(mod.dir, `${ctx.workDir}/src`);
    await mkdir(ctx.binDir, { recursive: true });
    const cosign = `${ctx.binDir}/cosign`;
    ctx.log(`building cosign ${COSIGN.version}`);
    // cosign's Makefile stamps the version through sigs.k8s.io/release-utils.
    await goBuild(ctx, {
      cwd: src,
      packages: ['./cmd/cosign'],
      output: cosign,
      ldflags: `-s -w -X sigs.k8s.io/release-utils/version.gitVersion=${COSIGN.version}`,
    });
    const version = await ctx.run(cosign, ['version']);
    if (!version.includes(COSIGN.version)) throw new Error(`built cosign reports an unexpected version:\n${version}`);

    const dir = await freshContext(`${ctx.workDir}/image-registry`);
    const digest = await buildImage(ctx, {
      refs: [REGISTRY_REF],
      contextDir: dir,
      dockerfile: [
        `FROM ${baseRef}`,
        'RUN apt-get update \\',
        ' && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-registry \\',
        ' && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \\',
        ' && test -f /etc/docker/registry/config.yml',
        'USER docker-registry',
        `EXPOSE ${REGISTRY_PORT}`,
        'ENTRYPOINT ["/usr/bin/docker-registry"]',
        'CMD ["serve", "/etc/docker/registry/config.yml"]',
        '',
      ].join('\n'),
    });
    return {
      images: [{ role: 'registry', ref: REGISTRY_REF, digest, debianPackages: await debianPackagesIn(ctx, REGISTRY_REF) }],
      files: { cosign },
    };
  },
};
