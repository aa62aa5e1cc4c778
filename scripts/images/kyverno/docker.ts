/** Docker helpers shared by the addon recipes: build from a generated context, read back IDs and package lists. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { BuildContext } from '../recipe.ts';
import { labelArgs } from '../lib/docker.ts';

export interface ImageBuild {
  /** Every tag the image gets; the first is the one recorded. */
  refs: string[];
  /** Directory holding the Dockerfile and the files it copies. */
  contextDir: string;
  dockerfile: string;
  buildArgs?: Record<string, string>;
}

/** Fresh build context directory (old contents removed so nothing stale gets copied in). */
export async function freshContext(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * `docker build` (classic builder: the engine is Debian's 20.10 with no buildx), returns the
 * image ID. Host network so apt reaches the mirror the host uses; recipe/key labels as lib/docker.ts.
 */
export async function buildImage(ctx: BuildContext, build: ImageBuild): Promise<string> {
  await writeFile(`${build.contextDir}/Dockerfile`, build.dockerfile);
  const args = ['build', '--network=host', '--pull=false', '--force-rm', ...labelArgs(ctx)];
  for (const ref of build.refs) args.push('-t', ref);
  for (const [k, v] of Object.entries(build.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
  args.push(build.contextDir);
  await ctx.run('docker', args, { env: { DOCKER_BUILDKIT: '0' } });
  return imageId(ctx, build.refs[0]!);
}

export async function imageId(ctx: BuildContext, ref: string): Promise<string> {
  return (await ctx.run('docker', ['image', 'inspect', '-f', '{{.Id}}', ref])).trim();
}

/** Debian packages installed in an image that has dpkg (the debian base and images built on it). */
export async function debianPackagesIn(ctx: BuildContext, ref: string): Promise<Array<{ name: string; version: string }>> {
  const out = await ctx.run('docker', [
    'run', '--rm', '--network=none', '--user=0', '--entrypoint=dpkg-query', ref, '-W', '-f=${Package}\t${Version}\n',
  ], { quietStdout: true });
  return out
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => {
      const [name, version] = l.split('\t');
      return { name: name!, version: version! };
    });
}

export interface CaCerts {
  /** Image holding /etc/ssl/certs/ca-certificates.crt, to `COPY --from=` into scratch images. */
  ref: string;
  /** The ca-certificates package that produced the bundle. */
  debianPackages: Array<{ name: string; version: string }>;
}

/**
 * CA bundle for FROM-scratch images, from Debian's ca-certificates on top of the
 * debian base (installed only if the base lacks it). Tagged after the base so a
 * new base gives a new bundle.
 */
export async function caCertsImage(ctx: BuildContext, baseRef: string): Promise<CaCerts> {
  const baseTag = baseRef.slice(baseRef.lastIndexOf(':') + 1);
  // One per recipe: the orchestrator untags a recipe's images whose key label is stale.
  const ref = `localhost/pci-harness/ca-certs:${ctx.recipe}-${baseTag}`;
  const dir = await freshContext(`${ctx.workDir}/ca-certs`);
  await buildImage(ctx, {
    refs: [ref],
    contextDir: dir,
    dockerfile: [
      `FROM ${baseRef}`,
      'RUN if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then \\',
      '      apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \\',
      '      && rm -rf /var/lib/apt/lists/*; fi \\',
      ' && test -s /etc/ssl/certs/ca-certificates.crt',
      '',
    ].join('\n'),
  });
  const all = await debianPackagesIn(ctx, ref);
  return { ref, debianPackages: all.filter((p) => p.name === 'ca-certificates') };
}
