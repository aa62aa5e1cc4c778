/**
 * probe: a netshoot-like client image for the live suites, from Debian
 * packages on the debian base, plus the harness's own probe agent
 * (`agent/`, Go standard library only) at /usr/local/bin/pci-probe. It runs
 * as uid 65532 under PSA "restricted" with a read-only root filesystem:
 * nothing in it writes to disk, and its entrypoint is coreutils
 * `sleep infinity` so tests `kubectl exec` the tools (`pci-probe probe ...`).
 * Pods that must also be a target override the command with
 * `pci-probe serve --tcp ... --udp ...`.
 */
import { cp, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BuildContext, Recipe, RecipeOutput } from '../recipe.ts';
import { buildImage, debianPackagesIn, freshContext } from '../kyverno/docker.ts';
import { goBuild, goToolchain } from '../kyverno/gomodule.ts';
import { fileContents } from '../kyverno/recipe-files.ts';
import { goVersion } from '../lib/go.ts';

export const PROBE_REF = 'localhost/pci-harness/probe:v1';

/** Where the probe agent lives inside the probe image. */
export const PROBE_AGENT_PATH = '/usr/local/bin/pci-probe';

/** curl (HTTP/S), nc (TCP connect), dig (DNS), openssl s_client (TLS versions/ciphers), ip/ss (addresses, sockets). */
export const PROBE_PACKAGES = ['curl', 'netcat-openbsd', 'dnsutils', 'openssl', 'iproute2', 'ca-certificates'];

/** The agent's source files, relative to this recipe (they are part of the cache key). */
const AGENT_FILES = ['main.go', 'go.mod'];

export const probe: Recipe = {
  name: 'probe',
  dependsOn: ['debian-base'],
  inputs: async () => [
    PROBE_PACKAGES.join(' '),
    await goToolchain(),
    ...(await fileContents(import.meta.url, [
      'recipe.ts',
      ...AGENT_FILES.map((f) => `agent/${f}`),
      '../kyverno/docker.ts',
      '../kyverno/gomodule.ts',
    ])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const baseRef = ctx.deps['debian-base']?.images[0]?.ref;
    if (!baseRef) throw new Error('probe needs the debian-base image');
    const dir = await freshContext(`${ctx.workDir}/image`);
    const src = fileURLToPath(new URL('agent', import.meta.url));
    await mkdir(`${ctx.workDir}/src`, { recursive: true });
    for (const f of AGENT_FILES) await cp(`${src}/${f}`, `${ctx.workDir}/src/${f}`);
    await goBuild(ctx, { cwd: `${ctx.workDir}/src`, packages: ['.'], output: `${dir}/pci-probe` });
    const digest = await buildImage(ctx, {
      refs: [PROBE_REF],
      contextDir: dir,
      dockerfile: [
        `FROM ${baseRef}`,
        'RUN apt-get update \\',
        ` && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PROBE_PACKAGES.join(' ')} \\`,
        ' && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb',
        // After the apt layer, so an agent edit reuses it.
        `COPY pci-probe ${PROBE_AGENT_PATH}`,
        // Every tool must be on PATH and the agent must run; a broken one fails the build, not a test run later.
        'RUN for t in curl nc dig openssl ip ss sleep pci-probe; do command -v "$t" >/dev/null || { echo "missing $t"; exit 1; }; done',
        `RUN ${PROBE_AGENT_PATH} version`,
        'USER 65532:65532',
        'ENTRYPOINT ["sleep", "infinity"]',
        '',
      ].join('\n'),
    });
    return {
      images: [
        {
          role: 'probe',
          ref: PROBE_REF,
          digest,
          goModules: [{ module: 'std', version: goVersion() }],
          debianPackages: await debianPackagesIn(ctx, PROBE_REF),
        },
      ],
      files: {},
    };
  },
};
