/**
 * probe: a netshoot-like client image for the live suites, from Debian
 * packages on the debian base. It runs as uid 65532 under PSA "restricted"
 * with a read-only root filesystem: nothing in it writes to disk, and its
 * entrypoint is coreutils `sleep infinity` so tests `kubectl exec` the tools.
 */
import type { BuildContext, Recipe, RecipeOutput } from '../recipe.ts';
import { buildImage, debianPackagesIn, freshContext } from '../kyverno/docker.ts';
import { fileContents } from '../kyverno/recipe-files.ts';

export const PROBE_REF = 'localhost/pci-harness/probe:v1';

/** curl (HTTP/S), nc (TCP connect), dig (DNS), openssl s_client (TLS versions/ciphers), ip/ss (addresses, sockets). */
export const PROBE_PACKAGES = ['curl', 'netcat-openbsd', 'dnsutils', 'openssl', 'iproute2', 'ca-certificates'];

export const probe: Recipe = {
  name: 'probe',
  dependsOn: ['debian-base'],
  inputs: async () => [PROBE_PACKAGES.join(' '), ...(await fileContents(import.meta.url, ['recipe.ts', '../kyverno/docker.ts']))],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const baseRef = ctx.deps['debian-base']?.images[0]?.ref;
    if (!baseRef) throw new Error('probe needs the debian-base image');
    const dir = await freshContext(`${ctx.workDir}/image`);
    const digest = await buildImage(ctx, {
      refs: [PROBE_REF],
      contextDir: dir,
      dockerfile: [
        `FROM ${baseRef}`,
        'RUN apt-get update \\',
        ` && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PROBE_PACKAGES.join(' ')} \\`,
        ' && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb',
        // Every tool must be on PATH; a missing one fails the build, not a test run later.
        'RUN for t in curl nc dig openssl ip ss sleep; do command -v "$t" >/dev/null || { echo "missing $t"; exit 1; }; done',
        'USER 65532:65532',
        'ENTRYPOINT ["sleep", "infinity"]',
        '',
      ].join('\n'),
    });
    return { images: [{ role: 'probe', ref: PROBE_REF, digest, debianPackages: await debianPackagesIn(ctx, PROBE_REF) }], files: {} };
  },
};
