/**
 * cilium: the agent (cilium-agent, cilium-dbg, cilium-health and its
 * responder, cilium-mount, cilium-sysctlfix, the cilium-cni plugin, the bpf/
 * sources the loader compiles at /var/lib/cilium/bpf, the loopback plugin
 * install-plugin.sh copies) and cilium-operator-generic, from the Go module
 * github.com/cilium/cilium with CGO_ENABLED=0 and tag osusergo (the operator
 * also ipam_provider_operator), version ldflags as upstream's Makefile.defs;
 * plus the install manifest rendered by `helm template` from the chart in the
 * same module. Layout follows upstream's images/cilium and images/operator
 * Dockerfiles, with Debian bookworm packages in place of the Ubuntu runtime
 * image and Debian's clang-19/llc-19 in place of cilium-llvm (same 19.1.7).
 * No Envoy and no Hubble (not buildable here; the values turn them off).
 */
import { chmod, cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import type { BuildContext, ImageRecord, Recipe, RecipeOutput } from '../recipe.ts';
import { buildImage, caCertsImage, debianPackagesIn, freshContext } from '../kyverno/docker.ts';
import { downloadModule, goBuild, goToolchain, modulesInBinary, writableCopy } from '../kyverno/gomodule.ts';
import { fileContents } from '../kyverno/recipe-files.ts';
import { HELM } from '../kyverno/helm.ts';
import { imageConfig } from '../lib/config.ts';
import { ciliumManifestProblems, ciliumValuesYaml } from './manifest.ts';
import { CILIUM, CILIUM_AGENT_REF, CILIUM_OPERATOR_REF, CILIUM_OPERATOR_REPO, CILIUM_TIME, CILIUM_VERSION, LLVM_MAJOR } from './versions.ts';

export const CILIUM_NAMESPACE = 'kube-system';

/** images/runtime/install-runtime-deps.sh's list (bash-completion aside) + Debian's LLVM for the datapath loader. */
const AGENT_PACKAGES = [`clang-${LLVM_MAJOR}`, `llvm-${LLVM_MAJOR}`, 'iproute2', 'iptables', 'ipset', 'kmod', 'ca-certificates', 'libatomic1'];

/** Makefile.defs: ciliumVersion = "VERSION GIT_VERSION" (short hash + author date); pkg/version parses exactly three fields. */
const LDFLAGS = `-s -w -X "github.com/cilium/cilium/pkg/version.ciliumVersion=${CILIUM_VERSION} ${CILIUM.version} ${CILIUM_TIME}"`;

/** Main package → binary name in the image (the Makefiles' TARGETs). */
const AGENT_MAINS: Array<[pkg: string, out: string, binary: string]> = [
  ['./daemon', 'daemon', 'cilium-agent'],
  ['./cilium-dbg', 'cilium-dbg', 'cilium-dbg'],
  ['./cilium-health', 'cilium-health', 'cilium-health'],
  ['./cilium-health/responder', 'responder', 'cilium-health-responder'],
  ['./tools/mount', 'mount', 'cilium-mount'],
  ['./tools/sysctlfix', 'sysctlfix', 'cilium-sysctlfix'],
  ['./plugins/cilium-cni', 'cilium-cni', 'cilium-cni'],
];

const tagOf = (ref: string) => ref.slice(ref.lastIndexOf(':') + 1);

export const cilium: Recipe = {
  name: 'cilium',
  dependsOn: ['debian-base', 'helm', 'cni-plugins'],
  inputs: async () => [
    await goToolchain(),
    `${CILIUM.module}@${CILIUM.version} ${CILIUM.sum}`,
    `${HELM.module}@${HELM.version}`,
    `kubernetes ${imageConfig().kubernetesVersion}`,
    AGENT_PACKAGES.join(' '),
    ...(await fileContents(import.meta.url, [
      'recipe.ts', 'manifest.ts', 'versions.ts', '../kyverno/docker.ts', '../kyverno/gomodule.ts', '../lib/manifest-images.ts',
    ])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const baseRef = ctx.deps['debian-base']?.images[0]?.ref;
    const helmBin = ctx.deps['helm']?.files['helm'];
    const loopback = ctx.deps['cni-plugins']?.files['loopback'];
    if (!baseRef || !helmBin || !loopback) throw new Error('cilium needs the debian-base image, the helm binary and the loopback CNI plugin');

    const mod = await downloadModule(ctx, CILIUM);
    const src = await writableCopy(mod.dir, `${ctx.workDir}/src`);
    const bin = `${ctx.workDir}/bin`;
    await rm(bin, { recursive: true, force: true });
    await mkdir(bin, { recursive: true });
    ctx.log(`building ${AGENT_MAINS.map((m) => m[2]).join(', ')} and cilium-operator-generic ${CILIUM.version} (cold: ~15 min on 2 cores)`);
    // One invocation for the agent's mains (shared packages compile once); the operator has its own tags.
    await goBuild(ctx, { cwd: src, packages: AGENT_MAINS.map((m) => m[0]), output: `${bin}/`, ldflags: LDFLAGS, tags: ['osusergo'] });
    await goBuild(ctx, {
      cwd: src, packages: ['./operator'], output: `${bin}/cilium-operator-generic`, ldflags: LDFLAGS, tags: ['osusergo', 'ipam_provider_operator'],
    });
    const goModules = async (b: string) => [
      { module: CILIUM.module, version: CILIUM.version },
      ...(await modulesInBinary(ctx, b)).filter((m) => m.version !== '(devel)'),
    ];

    const images: ImageRecord[] = [];
    const agentCtx = await freshContext(`${ctx.workDir}/image-agent`);
    await mkdir(`${agentCtx}/usr/bin`, { recursive: true });
    for (const [, out, binary] of AGENT_MAINS.filter((m) => m[2] !== 'cilium-cni')) await cp(`${bin}/${out}`, `${agentCtx}/usr/bin/${binary}`);
    await mkdir(`${agentCtx}/opt/cni/bin`, { recursive: true });
    await cp(`${bin}/cilium-cni`, `${agentCtx}/opt/cni/bin/cilium-cni`);
    await mkdir(`${agentCtx}/cni`);
    await cp(loopback, `${agentCtx}/cni/loopback`);
    await mkdir(`${agentCtx}/var/lib/cilium`, { recursive: true });
    await cp(`${src}/bpf`, `${agentCtx}/var/lib/cilium/bpf`, { recursive: true });
    // The scripts the chart's init containers and preStop hook run, at the paths it names.
    for (const s of ['images/cilium/init-container.sh', 'plugins/cilium-cni/install-plugin.sh', 'plugins/cilium-cni/cni-uninstall.sh', 'images/runtime/iptables-wrapper-installer.sh']) {
      const dest = `${agentCtx}/${s.slice(s.lastIndexOf('/') + 1)}`;
      await cp(`${src}/${s}`, dest);
      await chmod(dest, 0o755);
    }
    await mkdir(`${agentCtx}/usr/local/bin`, { recursive: true });
    // The loader execs `clang` and `llc` by name (pkg/datapath/loader/compile.go).
    await symlink(`/usr/bin/clang-${LLVM_MAJOR}`, `${agentCtx}/usr/local/bin/clang`);
    await symlink(`/usr/bin/llc-${LLVM_MAJOR}`, `${agentCtx}/usr/local/bin/llc`);
    const agentDigest = await buildImage(ctx, {
      refs: [CILIUM_AGENT_REF],
      contextDir: agentCtx,
      dockerfile: [
        `FROM ${baseRef}`,
        'RUN apt-get update \\',
        ` && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${AGENT_PACKAGES.join(' ')} \\`,
        ' && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb',
        // Upstream's runtime image: iptables-wrapper picks legacy or nft the way the node already does (as kube-proxy).
        'COPY iptables-wrapper-installer.sh /tmp/',
        'RUN /tmp/iptables-wrapper-installer.sh --no-sanity-check && rm -f /tmp/iptables-wrapper-installer.sh',
        'COPY usr/ /usr/',
        'COPY opt/ /opt/',
        'COPY cni/ /cni/',
        'COPY var/ /var/',
        'COPY init-container.sh install-plugin.sh cni-uninstall.sh /',
        // daemon/Makefile install (groupadd -f cilium): the agent's sockets are group cilium. minbase has no groupadd.
        "RUN { getent group cilium >/dev/null || echo 'cilium:x:1000:' >> /etc/group; } \\",
        ' && for t in cilium-agent cilium-dbg cilium-health cilium-health-responder cilium-mount cilium-sysctlfix clang llc ip iptables ipset modprobe nsenter; do command -v $t >/dev/null || { echo "missing $t"; exit 1; }; done \\',
        ` && clang --version | grep -q "version ${LLVM_MAJOR}\\." && test -f /var/lib/cilium/bpf/bpf_lxc.c && test -x /opt/cni/bin/cilium-cni && test -x /cni/loopback`,
        'ENV INITSYSTEM=SYSTEMD',
        'WORKDIR /home/cilium',
        `LABEL version=${CILIUM_VERSION}`,
        'CMD ["/usr/bin/cilium-dbg"]',
        '',
      ].join('\n'),
    });
    images.push({
      role: 'cilium-agent', ref: CILIUM_AGENT_REF, digest: agentDigest,
      goModules: await goModules(`${bin}/daemon`), debianPackages: await debianPackagesIn(ctx, CILIUM_AGENT_REF),
    });

    // Operator: upstream's images/operator layout (scratch + CA bundle, binary under /usr/bin).
    const certs = await caCertsImage(ctx, baseRef);
    const opCtx = await freshContext(`${ctx.workDir}/image-operator`);
    await cp(`${bin}/cilium-operator-generic`, `${opCtx}/cilium-operator-generic`);
    const opDigest = await buildImage(ctx, {
      refs: [CILIUM_OPERATOR_REF],
      contextDir: opCtx,
      dockerfile: [
        `FROM ${certs.ref} AS certs`,
        'FROM scratch',
        'COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt',
        'COPY cilium-operator-generic /usr/bin/cilium-operator-generic',
        // The chart runs `cilium-operator-generic` by name.
        'ENV PATH=/usr/bin',
        'WORKDIR /',
        `LABEL version=${CILIUM_VERSION}`,
        'CMD ["/usr/bin/cilium-operator-generic"]',
        '',
      ].join('\n'),
    });
    images.push({
      role: 'cilium-operator', ref: CILIUM_OPERATOR_REF, digest: opDigest,
      goModules: await goModules(`${bin}/cilium-operator-generic`), debianPackages: certs.debianPackages,
    });

    const manifest = await renderManifest(ctx, helmBin, src);
    const problems = ciliumManifestProblems(manifest, images.map((i) => i.ref));
    if (problems.length) throw new Error(`the rendered Cilium manifest is not fit to ship:\n  - ${problems.join('\n  - ')}`);
    const outDir = `${ctx.cacheDir}/addons/cilium-${CILIUM.version}`;
    await mkdir(outDir, { recursive: true });
    await writeFile(`${outDir}/cilium.yaml`, manifest);
    return { images, files: { 'cilium-manifest': `${outDir}/cilium.yaml` } };
  },
};

/** `helm template` of install/kubernetes/cilium with the values of manifest.ts, for the cluster's Kubernetes version. */
async function renderManifest(ctx: BuildContext, helmBin: string, src: string): Promise<string> {
  const values = `${ctx.workDir}/values.yaml`;
  await writeFile(values, ciliumValuesYaml({
    agent: { repository: CILIUM_AGENT_REF.slice(0, CILIUM_AGENT_REF.lastIndexOf(':')), tag: tagOf(CILIUM_AGENT_REF) },
    operator: { repository: CILIUM_OPERATOR_REPO, tag: tagOf(CILIUM_OPERATOR_REF) },
  }));
  const chart = `${src}/install/kubernetes/cilium`;
  if (!(await readFile(`${chart}/Chart.yaml`, 'utf8')).includes(`version: ${CILIUM_VERSION}`)) {
    throw new Error(`install/kubernetes/cilium/Chart.yaml is not version ${CILIUM_VERSION}: the module changed, re-check this recipe`);
  }
  return ctx.run(helmBin, [
    'template', 'cilium', chart,
    '--namespace', CILIUM_NAMESPACE,
    '--kube-version', imageConfig().kubernetesVersion,
    '--values', values,
  ], { env: { HELM_CACHE_HOME: `${ctx.workDir}/helm/cache`, HELM_CONFIG_HOME: `${ctx.workDir}/helm/config`, HELM_DATA_HOME: `${ctx.workDir}/helm/data` } });
}
