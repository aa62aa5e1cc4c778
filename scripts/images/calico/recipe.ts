/**
 * calico: calico-node (Felix inside; VXLAN without BGP, so no BIRD/confd) and
 * the CNI plugin/installer, built from the calico Go module with
 * CGO_ENABLED=0 (libbpf stub: iptables dataplane only), plus the patched
 * manifests/calico-vxlan.yaml. Image layouts follow upstream's
 * node/Dockerfile.amd64 and cni-plugin/Dockerfile, with Debian bookworm
 * packages in place of the UBI/AlmaLinux ones.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { BuildContext, ImageRecord, Recipe, RecipeOutput } from '../recipe.ts';
import { buildImage, caCertsImage, debianPackagesIn, freshContext } from '../kyverno/docker.ts';
import { downloadModule, goBuild, goToolchain, modulesInBinary, writableCopy } from '../kyverno/gomodule.ts';
import { fileContents } from '../kyverno/recipe-files.ts';
import { imagesIn } from '../lib/manifest-images.ts';
import { patchCalicoManifest } from './manifest.ts';
import { CALICO, CALICO_API, CALICO_COMMIT, CALICO_LIB_STD, CALICO_VERSION } from './versions.ts';

export const CALICO_NODE_REF = `docker.io/calico/node:${CALICO_VERSION}`;
export const CALICO_CNI_REF = `docker.io/calico/cni:${CALICO_VERSION}`;
/** kind's default networking.podSubnet. Not Calico's 192.168.0.0/16 default: Docker may hand a kind network a 192.168.x subnet, and pods then cannot reach node IPs or the API server (found on the first live boot). */
export const POD_CIDR = '10.244.0.0/16';
const POLICY_SETUP_TIMEOUT_SECONDS = 10;

/** What calico-node shells out to (felix: iptables/ipset/conntrack/modprobe; start_runit: runsvdir, which). */
const NODE_PACKAGES = ['iptables', 'ipset', 'iproute2', 'kmod', 'conntrack', 'procps', 'runit', 'ca-certificates'];

const NODE_LDFLAGS = [
  '-s -w',
  `-X github.com/projectcalico/calico/node/pkg/lifecycle/startup.VERSION=${CALICO_VERSION}`,
  `-X github.com/projectcalico/calico/node/buildinfo.GitVersion=${CALICO_VERSION}`,
  `-X github.com/projectcalico/calico/node/buildinfo.GitRevision=${CALICO_COMMIT}`,
  // cni-plugin/Makefile: LDFLAGS = -X main.VERSION=$(GIT_VERSION)
  `-X main.VERSION=${CALICO_VERSION}`,
].join(' ');

export const calico: Recipe = {
  name: 'calico',
  dependsOn: ['debian-base'],
  inputs: async () => [
    await goToolchain(),
    ...[CALICO, CALICO_API, CALICO_LIB_STD].map((m) => `${m.module}@${m.version} ${m.sum}`),
    NODE_PACKAGES.join(' '),
    `${POD_CIDR} policy_setup_timeout_seconds=${POLICY_SETUP_TIMEOUT_SECONDS}`,
    ...(await fileContents(import.meta.url, [
      'recipe.ts', 'manifest.ts', 'versions.ts', '../kyverno/docker.ts', '../kyverno/gomodule.ts',
    ])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const baseRef = ctx.deps['debian-base']?.images[0]?.ref;
    if (!baseRef) throw new Error('calico needs the debian-base image');
    const src = await assembleSource(ctx);

    const bin = `${ctx.workDir}/bin`;
    await rm(bin, { recursive: true, force: true });
    await mkdir(bin, { recursive: true });
    ctx.log(`building calico-node, calico (CNI), install ${CALICO_VERSION}`);
    await goBuild(ctx, {
      cwd: src,
      packages: ['./node/cmd/calico-node', './cni-plugin/cmd/calico', './cni-plugin/cmd/install'],
      output: `${bin}/`,
      ldflags: NODE_LDFLAGS,
    });
    const goModules = async (b: string) => [
      { module: CALICO.module, version: `${CALICO.version} (${CALICO_VERSION})` },
      { module: CALICO_API.module, version: CALICO_API.version },
      ...(await modulesInBinary(ctx, b)).filter((m) => m.version !== '(devel)' && !m.module.startsWith('github.com/projectcalico/calico/lib/httpmachinery')),
    ];

    const images: ImageRecord[] = [];
    // calico/node: Debian base + the tools Felix runs + upstream's runit service tree.
    const nodeCtx = await freshContext(`${ctx.workDir}/image-node`);
    await cp(`${bin}/calico-node`, `${nodeCtx}/calico-node`);
    await cp(`${src}/node/filesystem/etc/calico`, `${nodeCtx}/etc/calico`, { recursive: true });
    await cp(`${src}/node/filesystem/etc/service`, `${nodeCtx}/etc/service`, { recursive: true });
    await cp(`${src}/node/filesystem/etc/rc.local`, `${nodeCtx}/etc/rc.local`);
    await cp(`${src}/node/filesystem/sbin`, `${nodeCtx}/sbin`, { recursive: true });
    const nodeDigest = await buildImage(ctx, {
      refs: [CALICO_NODE_REF],
      contextDir: nodeCtx,
      dockerfile: [
        `FROM ${baseRef}`,
        'RUN apt-get update \\',
        ` && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${NODE_PACKAGES.join(' ')} \\`,
        ' && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb',
        'COPY etc/ /etc/',
        'COPY sbin/ /usr/sbin/',
        'COPY calico-node /bin/calico-node',
        'RUN chmod 0755 /bin/calico-node /usr/sbin/start_runit /usr/sbin/restart-calico-confd /usr/sbin/versions /etc/rc.local \\',
        '    && find /etc/service -name run -exec chmod 0755 {} + \\',
        // Felix picks legacy or nft by counting rules (FELIX_IPTABLESBACKEND=Auto); both must exist.
        '    && for t in iptables-legacy-save iptables-nft-save ipset conntrack modprobe ip runsvdir which; do command -v $t >/dev/null || { echo "missing $t"; exit 1; }; done',
        'ENV SVDIR=/etc/service/enabled',
        `LABEL version=${CALICO_VERSION}`,
        'CMD ["start_runit"]',
        '',
      ].join('\n'),
    });
    images.push({
      role: 'calico-node', ref: CALICO_NODE_REF, digest: nodeDigest,
      goModules: await goModules(`${bin}/calico-node`), debianPackages: await debianPackagesIn(ctx, CALICO_NODE_REF),
    });

    // calico/cni: static binaries copied to the host by `install`; calico-ipam is the calico binary under another name.
    const certs = await caCertsImage(ctx, baseRef);
    const cniCtx = await freshContext(`${ctx.workDir}/image-cni`);
    await mkdir(`${cniCtx}/bin`);
    await cp(`${bin}/calico`, `${cniCtx}/bin/calico`);
    await cp(`${bin}/calico`, `${cniCtx}/bin/calico-ipam`);
    await cp(`${bin}/install`, `${cniCtx}/bin/install`);
    const cniDigest = await buildImage(ctx, {
      refs: [CALICO_CNI_REF],
      contextDir: cniCtx,
      dockerfile: [
        `FROM ${certs.ref} AS certs`,
        'FROM scratch',
        'COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt',
        'COPY bin/ /opt/cni/bin/',
        'ENV PATH=/opt/cni/bin',
        'WORKDIR /opt/cni/bin',
        `LABEL version=${CALICO_VERSION}`,
        'CMD ["/opt/cni/bin/install"]',
        '',
      ].join('\n'),
    });
    images.push({
      role: 'calico-cni', ref: CALICO_CNI_REF, digest: cniDigest,
      goModules: await goModules(`${bin}/calico`), debianPackages: certs.debianPackages,
    });

    const manifest = patchCalicoManifest(await readFile(`${src}/manifests/calico-vxlan.yaml`, 'utf8'), {
      podCidr: POD_CIDR,
      images: { node: CALICO_NODE_REF, cni: CALICO_CNI_REF },
      policySetupTimeoutSeconds: POLICY_SETUP_TIMEOUT_SECONDS,
    });
    const foreign = imagesIn(manifest).filter((r) => r !== CALICO_NODE_REF && r !== CALICO_CNI_REF);
    if (foreign.length) throw new Error(`patched calico manifest still uses images not built here: ${foreign.join(', ')}`);
    const outDir = `${ctx.cacheDir}/addons/calico-${CALICO_VERSION}`;
    await mkdir(outDir, { recursive: true });
    await writeFile(`${outDir}/calico.yaml`, manifest);
    return { images, files: { 'calico-manifest': `${outDir}/calico.yaml` } };
  },
};

/**
 * The calico module zip lacks its nested modules, which go.mod replaces with
 * local paths (./api, ./lib/std, ./lib/httpmachinery): put the pinned copies
 * there. lib/httpmachinery is not served by the proxy at this commit; only
 * whisker-backend imports it, so an empty module satisfies the replace, and
 * modulesInBinary would show it if anything we build linked it.
 */
async function assembleSource(ctx: BuildContext): Promise<string> {
  const calicoMod = await downloadModule(ctx, CALICO);
  const api = await downloadModule(ctx, CALICO_API);
  const std = await downloadModule(ctx, CALICO_LIB_STD);
  const src = await writableCopy(calicoMod.dir, `${ctx.workDir}/src`);
  await writableCopy(api.dir, `${src}/api`);
  await writableCopy(std.dir, `${src}/lib/std`);
  await mkdir(`${src}/lib/httpmachinery`, { recursive: true });
  await writeFile(`${src}/lib/httpmachinery/go.mod`, 'module github.com/projectcalico/calico/lib/httpmachinery\n\ngo 1.24\n');
  return src;
}
