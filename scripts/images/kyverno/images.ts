/**
 * kyverno: the admission controller (+ its init container) and the background
 * controller as FROM-scratch images (CA bundle only, uid 65532), tagged with the
 * chart's exact image names so the chart renders unchanged; plus the install
 * manifest rendered by `helm template` from the chart in the same module.
 *
 * Layout follows upstream's ko build (.ko.yaml): binary at /ko-app/<main>,
 * which is also the entrypoint. Cleanup and reports controllers are not built:
 * the manifest disables them, and a check below fails if the manifest names
 * any image this recipe did not build.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { BuildContext, ImageRecord, Recipe, RecipeOutput } from '../recipe.ts';
import { buildImage, caCertsImage, freshContext } from './docker.ts';
import { downloadModule, goBuild, modulesInBinary, writableCopy, goToolchain } from './gomodule.ts';
import { HELM } from './helm.ts';
import { fileContents } from './recipe-files.ts';
import { imageConfig } from '../lib/config.ts';
import { KYVERNO, KYVERNO_LDFLAGS } from './versions.ts';
import { imagesIn } from '../lib/manifest-images.ts';

/** charts/kyverno/values.yaml: defaultRegistry reg.kyverno.io, tag defaults to appVersion (= module version). */
const REGISTRY = 'reg.kyverno.io/kyverno';
const COMPONENTS = [
  { main: 'kyverno', repo: 'kyverno', role: 'kyverno' },
  { main: 'kyverno-init', repo: 'kyvernopre', role: 'kyvernopre' },
  { main: 'background-controller', repo: 'background-controller', role: 'kyverno-background' },
] as const;

export const KYVERNO_NAMESPACE = 'kyverno';

/**
 * Chart values for a one-node test cluster. Hooks and helm tests are left out
 * with --no-hooks/--skip-tests (they pull curl/kubectl images and only matter
 * for upgrade/uninstall); CRDs come from the chart's own crds subchart.
 */
const VALUES = `# written by scripts/images/kyverno/images.ts
crds:
  install: true
admissionController:
  replicas: 1
  initContainer:
    image:
      pullPolicy: IfNotPresent
  container:
    image:
      pullPolicy: IfNotPresent
backgroundController:
  enabled: true
  replicas: 1
  image:
    pullPolicy: IfNotPresent
cleanupController:
  enabled: false
reportsController:
  enabled: false
webhooksCleanup:
  enabled: false
grafana:
  enabled: false
openreports:
  enabled: false
  installCrds: false
# verifyImages reads signatures from the live lane's local registry, which serves plain HTTP
# (harness/registry/): --allowInsecureRegistry on the admission controller.
features:
  registryClient:
    allowInsecure: true
`;

export const kyverno: Recipe = {
  name: 'kyverno',
  dependsOn: ['debian-base', 'helm'],
  inputs: async () => [
    await goToolchain(),
    `${KYVERNO.module}@${KYVERNO.version} ${KYVERNO.sum}`,
    `${HELM.module}@${HELM.version}`,
    `kubernetes ${imageConfig().kubernetesVersion}`,
    VALUES,
    ...(await fileContents(import.meta.url, ['images.ts', 'docker.ts', 'gomodule.ts', 'versions.ts', 'recipe-files.ts'])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const baseRef = ctx.deps['debian-base']?.images[0]?.ref;
    const helmBin = ctx.deps['helm']?.files['helm'];
    if (!baseRef || !helmBin) throw new Error('kyverno needs the debian-base image and the helm binary');

    const mod = await downloadModule(ctx, KYVERNO);
    const src = await writableCopy(mod.dir, `${ctx.workDir}/src`);
    const binDir = `${ctx.workDir}/bin`;
    await mkdir(binDir, { recursive: true });
    ctx.log(`building ${COMPONENTS.map((c) => c.main).join(', ')} ${KYVERNO.version}`);
    // One invocation for all mains: shared packages compile once.
    await goBuild(ctx, {
      cwd: src,
      packages: COMPONENTS.map((c) => `./cmd/${c.main}`),
      output: `${binDir}/`,
      ldflags: KYVERNO_LDFLAGS,
    });

    const certs = await caCertsImage(ctx, baseRef);
    const images: ImageRecord[] = [];
    for (const c of COMPONENTS) {
      const ref = `${REGISTRY}/${c.repo}:${KYVERNO.version}`;
      const dir = await freshContext(`${ctx.workDir}/image-${c.main}`);
      await cp(`${binDir}/${c.main}`, `${dir}/${c.main}`);
      const digest = await buildImage(ctx, {
        refs: [ref],
        contextDir: dir,
        dockerfile: [
          `FROM ${certs.ref} AS certs`,
          'FROM scratch',
          'COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt',
          `COPY ${c.main} /ko-app/${c.main}`,
          'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
          'USER 65532:65532',
          `ENTRYPOINT ["/ko-app/${c.main}"]`,
          '',
        ].join('\n'),
      });
      const goModules = (await modulesInBinary(ctx, `${binDir}/${c.main}`)).filter((m) => m.version !== '(devel)');
      goModules.unshift({ module: KYVERNO.module, version: KYVERNO.version });
      images.push({ role: c.role, ref, digest, goModules, debianPackages: certs.debianPackages });
    }

    const manifest = await renderManifest(ctx, helmBin, src);
    const built = new Set(images.map((i) => i.ref));
    const foreign = imagesIn(manifest).filter((ref) => !built.has(ref));
    if (foreign.length) {
      throw new Error(`the rendered Kyverno manifest uses images this recipe does not build: ${foreign.join(', ')}`);
    }
    const out = `${ctx.cacheDir}/addons/kyverno-${KYVERNO.version}/kyverno.yaml`;
    await mkdir(`${ctx.cacheDir}/addons/kyverno-${KYVERNO.version}`, { recursive: true });
    await writeFile(out, manifest);
    return { images, files: { 'kyverno-manifest': out } };
  },
};

/** `helm template` of charts/kyverno, after dropping the remote openreports dependency (unreachable here, disabled anyway). */
async function renderManifest(ctx: BuildContext, helmBin: string, src: string): Promise<string> {
  const chart = `${ctx.workDir}/chart`;
  await rm(chart, { recursive: true, force: true });
  await cp(`${src}/charts/kyverno`, chart, { recursive: true });
  for (const file of ['Chart.yaml', 'Chart.lock']) {
    const text = await readFile(`${chart}/${file}`, 'utf8');
    const dropped = dropOpenreports(text);
    if (dropped === text) throw new Error(`charts/kyverno/${file}: openreports dependency not found; the chart changed, re-check this recipe`);
    await writeFile(`${chart}/${file}`, dropped);
  }
  await writeFile(`${ctx.workDir}/values.yaml`, VALUES);
  // helm template never renders the release namespace itself; `helm install --create-namespace` would create it.
  const namespace = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${KYVERNO_NAMESPACE}\n`;
  const rendered = await ctx.run(helmBin, [
    'template', 'kyverno', chart,
    '--namespace', KYVERNO_NAMESPACE, '--include-crds', '--no-hooks', '--skip-tests',
    // Render for the cluster we boot, not helm's built-in default.
    '--kube-version', imageConfig().kubernetesVersion,
    '--values', `${ctx.workDir}/values.yaml`,
  ], { env: { HELM_CACHE_HOME: `${ctx.workDir}/helm/cache`, HELM_CONFIG_HOME: `${ctx.workDir}/helm/config`, HELM_DATA_HOME: `${ctx.workDir}/helm/data` } });
  return `---\n${namespace}${rendered}`;
}

/** Removes the `- name: openreports` list item (and its indented fields) from a dependencies list. */
export function dropOpenreports(text: string): string {
  return text.replace(/^(\s*)- name: openreports\n(?:\1  .*\n)*/m, '');
}

