/**
 * otelcol: the audit-log shipper's collector, built here from Go modules
 * (core + contrib v0.156.0: filelog receiver, file_storage extension, batch
 * processor, awss3 and debug exporters) through a generated wrapper module
 * (distribution.ts, shaped like the OpenTelemetry Collector Builder's output).
 * `go mod tidy` fills go.sum from the proxy (checked against the checksum
 * database) and `go mod verify` re-checks every module before the build.
 * Image FROM the Debian base (CA bundle for a real S3 endpoint over TLS), the
 * binary at /otelcol, no shell entrypoint.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { BuildContext, Recipe, RecipeOutput } from '../recipe.ts';
import { buildImage, debianPackagesIn, freshContext } from '../kyverno/docker.ts';
import { goBuild, goToolchain, modulesInBinary } from '../kyverno/gomodule.ts';
import { fileContents } from '../kyverno/recipe-files.ts';
import { goEnv } from '../lib/go.ts';
import { COMPONENTS, DISTRIBUTION, generateModule, OTELCOL_VERSION, pinDrift } from './distribution.ts';

/** The reference manifests/cluster's shipper runs (loaded into the nodes at boot). */
export const OTELCOL_REF = `localhost/pci-harness/otelcol:${OTELCOL_VERSION}`;
const PACKAGES = ['ca-certificates'];

export const otelcol: Recipe = {
  name: 'otelcol',
  dependsOn: ['debian-base'],
  inputs: async () => [
    await goToolchain(),
    ...COMPONENTS.map((c) => `${c.kind} ${c.importPath} ${c.module}@${c.version}`),
    PACKAGES.join(' '),
    ...(await fileContents(import.meta.url, ['recipe.ts', 'distribution.ts', '../kyverno/docker.ts', '../kyverno/gomodule.ts'])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const baseRef = ctx.deps['debian-base']?.images[0]?.ref;
    if (!baseRef) throw new Error('otelcol needs the debian-base image');
    const src = `${ctx.workDir}/src`;
    await rm(src, { recursive: true, force: true });
    await mkdir(src, { recursive: true });
    for (const [name, text] of Object.entries(generateModule())) await writeFile(`${src}/${name}`, text);
    ctx.log(`wrapper module ${DISTRIBUTION.module}: ${COMPONENTS.map((c) => c.alias).join(', ')}`);
    // Network-bound (about 920 packages the first time), then every module re-hashed against go.sum.
    await ctx.run('go', ['mod', 'tidy'], { cwd: src, env: goEnv({ GOFLAGS: '-modcacherw' }) });
    await ctx.run('go', ['mod', 'verify'], { cwd: src, env: goEnv() });
    // tidy may not move a pinned component (a missing module path makes it pick the newest).
    const drift = pinDrift(await readFile(`${src}/go.mod`, 'utf8'));
    if (drift.length) throw new Error(`go mod tidy moved pinned components: ${drift.join('; ')} — fix the module paths in scripts/images/otelcol/distribution.ts`);

    const bin = `${ctx.workDir}/bin/otelcol`;
    await mkdir(`${ctx.workDir}/bin`, { recursive: true });
    ctx.log(`go build ${DISTRIBUTION.name} ${OTELCOL_VERSION}`);
    await goBuild(ctx, { cwd: src, packages: ['.'], output: bin });
    const listed = await ctx.run(bin, ['components']);
    for (const c of COMPONENTS.filter((x) => ['receiver', 'exporter', 'processor', 'extension'].includes(x.kind))) {
      if (!listed.includes(c.module)) throw new Error(`the built collector does not list ${c.alias} (${c.module}) in \`otelcol components\``);
    }

    const dir = await freshContext(`${ctx.workDir}/image`);
    await writeFile(`${dir}/otelcol`, '');
    await ctx.run('cp', [bin, `${dir}/otelcol`]);
    const digest = await buildImage(ctx, {
      refs: [OTELCOL_REF],
      contextDir: dir,
      dockerfile: [
        `FROM ${baseRef}`,
        'RUN apt-get update \\',
        ` && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PACKAGES.join(' ')} \\`,
        ' && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb',
        'COPY otelcol /otelcol',
        'RUN chmod 0755 /otelcol && /otelcol --version',
        `LABEL version=${OTELCOL_VERSION}`,
        'ENTRYPOINT ["/otelcol"]',
        '',
      ].join('\n'),
    });
    const goModules = (await modulesInBinary(ctx, bin)).filter((m) => m.version !== '(devel)');
    return {
      images: [{ role: 'otelcol', ref: OTELCOL_REF, digest, goModules, debianPackages: await debianPackagesIn(ctx, OTELCOL_REF) }],
      files: {},
    };
  },
};
