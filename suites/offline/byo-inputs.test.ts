import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { runAnalyzers } from '../../harness/check/run.ts';
import { loadManifests, type SourceOptions } from '../../harness/manifests/sources.ts';
import { getIn } from '../../harness/analyzers/workloads.ts';
import { cli, REPO, STACK_FRAME } from './cli.ts';

/**
 * `--manifests` takes a user's set as they keep it: a Kustomize overlay, a
 * Helm chart with values, or a stream on stdin (+ --namespace). Rendering is
 * done by the kubectl and helm built into the harness cache: no network.
 * Findings point at the user's source files, not at rendered output.
 */
const BYO = join(REPO, 'suites', 'offline', 'fixtures', 'byo');
const OVERLAY = join(BYO, 'kustomize', 'overlays', 'prod');
const CHART = join(BYO, 'helm', 'shop');

interface JsonResult {
  check: string;
  status: string;
  file: string | null;
  line: number | null;
  object: string | null;
}
const results = (stdout: string): JsonResult[] => JSON.parse(stdout).results as JsonResult[];
/** What `check` reports on an input, in process (the CLI path itself is covered by the stdin and error cases). */
async function check(arg: string, opts: SourceOptions = {}): Promise<JsonResult[]> {
  const { results: rs } = await runAnalyzers(loadManifests(arg, opts).set, defaultAnalyzers(), { skipKyverno: true });
  expect(rs.some((r) => r.status === 'fail')).toBe(true); // the declarations are missing: a verdict, not bad input
  return rs.map((r) => ({ check: r.check, status: r.status, file: r.file ?? null, line: r.line ?? null, object: r.object ?? null }));
}
const find = (rs: JsonResult[], object: string) => rs.filter((r) => r.object === object);

/** Line of the first line of `file` matching `re` (1-based). */
const lineOf = (file: string, re: RegExp) => readFileSync(file, 'utf8').split('\n').findIndex((l) => re.test(l)) + 1;

describe('Kustomize input', () => {
  it('renders the overlay and points findings at the base file the object came from', async () => {
    const rs = await check(OVERLAY);
    const web = find(rs, 'Deployment/shop/web');
    expect(web.length).toBeGreaterThan(0);
    // The overlay's namespace applied, the Deployment located in the base, not in the overlay or the render.
    for (const x of web) expect(x.file).toBe('../../base/deployment.yaml');
    const automount = web.find((x) => x.check === 'rbac.token-automount');
    // spec.template.spec: its value starts at `containers:` in the base file (as the directory loader locates it).
    expect(automount?.line).toBe(lineOf(join(BYO, 'kustomize', 'base', 'deployment.yaml'), /^ {6}containers:/));
    // A generated object points at the kustomization that generates it; the overlay's own resource at itself.
    expect(rs.find((x) => x.object?.startsWith('ConfigMap/shop/web-config-'))?.file).toBe('kustomization.yaml');
    expect(find(rs, 'Namespace/shop')[0]?.file).toBe('namespace.yaml');
  });

  it('keeps what the overlay changed and drops the origin annotations it was rendered with', () => {
    const { set, kind } = loadManifests(OVERLAY);
    expect(kind).toBe('kustomize');
    const web = set.objects.find((o) => o.object.kind === 'Deployment')!;
    expect(getIn(web.object, ['spec', 'replicas'])).toBe(3); // the overlay's patch
    expect(set.objects.some((o) => o.object.metadata.annotations?.['config.kubernetes.io/origin'])).toBe(false);
    expect(readFileSync(join(OVERLAY, 'kustomization.yaml'), 'utf8')).not.toMatch(/buildMetadata/); // the user's file untouched
  });

  it('a render error is bad input: exit 2, kustomize\'s own message, no stack trace', async () => {
    const r = await cli(['check', '--manifests', join(BYO, 'kustomize', 'overlays', 'broken'), '--skip-kyverno']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/kustomization\.yaml: kustomize build of .*broken failed; kubectl printed:\n.*does-not-exist\.yaml/);
    expect(r.stderr).not.toMatch(/pci-kustomize-/); // the temp wrapper never shows
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stdout).toBe('');
  });

  it('an object the harness cannot model is bad input at the source file that holds it, not at the render', async () => {
    const r = await cli(['check', '--manifests', join(BYO, 'kustomize', 'overlays', 'unknown-kind'), '--skip-kyverno']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pci-harness check: widget\.yaml:2: unknown kind Widget \(apiVersion example\.com\/v1\) \(in the output of kustomize build of .*unknown-kind\)/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('a base without namespaces fails on the first namespaced object, naming its file and --namespace', async () => {
    const r = await cli(['check', '--manifests', join(BYO, 'kustomize', 'base'), '--skip-kyverno']);
    expect(r.code).toBe(2);
    // kustomize emits the Service first.
    expect(r.stderr).toMatch(/^pci-harness check: service\.yaml:1: Service web has no metadata\.namespace\n\s+hint: .*--namespace NS/);
  });
});

describe('Helm input', () => {
  it('renders the chart with --namespace and points findings at the template', async () => {
    const rs = await check(CHART, { namespace: 'shop' });
    const tpl = join(CHART, 'templates', 'api.yaml');
    expect(find(rs, 'Deployment/shop/shop-api')[0]).toMatchObject({ file: 'templates/api.yaml', line: lineOf(tpl, /^kind: Deployment/) });
    expect(find(rs, 'ServiceAccount/shop/shop-api')[0]).toMatchObject({ file: 'templates/api.yaml', line: lineOf(tpl, /^kind: ServiceAccount/) });
    expect(find(rs, 'Namespace/shop')[0]?.file).toBe('templates/namespace.yaml');
  });

  it('applies --values files in order, and the release name', () => {
    const base = loadManifests(CHART, { namespace: 'shop' }).set;
    const dep = (s: typeof base) => s.objects.find((o) => o.object.kind === 'Deployment')!.object;
    expect(getIn(dep(base), ['spec', 'template', 'spec', 'hostNetwork'])).toBe(false);
    const flipped = loadManifests(CHART, { namespace: 'shop', values: [join(CHART, 'values-hostnetwork.yaml')], release: 'prod' }).set;
    expect(getIn(dep(flipped), ['spec', 'template', 'spec', 'hostNetwork'])).toBe(true);
    expect(dep(flipped).metadata.name).toBe('prod-api');
  });

  it('a template error is bad input: exit 2 at the template file and line helm names', async () => {
    const r = await cli(['check', '--manifests', join(BYO, 'helm', 'broken'), '--skip-kyverno']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/templates\/cm\.yaml:6: helm template of .*broken failed; helm printed:\n\s+Error: template: broken\/templates\/cm\.yaml:6/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('--values on something that is not a chart is a usage error', async () => {
    const r = await cli(['check', '--manifests', OVERLAY, '--values', join(CHART, 'values.yaml'), '--skip-kyverno']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--values applies to a Helm chart, but .* is a Kustomize directory/);
  });
});

describe('standard input and --namespace', () => {
  const stream = ['deployment.yaml', 'service.yaml'].map((f) => readFileSync(join(BYO, 'kustomize', 'base', f), 'utf8')).join('---\n');
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n';
  const pipe = (args: string[], input: string) =>
    execa(process.execPath, [join(REPO, 'scripts', 'pci-harness.mjs'), 'check', '--manifests', '-', '--skip-kyverno', ...args], { cwd: REPO, input, reject: false, timeout: 120_000 });

  it('without --namespace: exit 2 at <stdin>:line, telling the user to pass --namespace', async () => {
    const r = await pipe([], ns + stream);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/<stdin>:6: Deployment web has no metadata\.namespace\n\s+hint: .*pass --namespace NS/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('with --namespace: every namespaced object gets it, as kubectl apply -n does', async () => {
    const r = await pipe(['--namespace', 'shop', '--format', 'json'], ns + stream);
    expect(r.exitCode).toBe(1);
    const rs = results(r.stdout);
    expect(find(rs, 'Deployment/shop/web')[0]).toMatchObject({ file: '<stdin>' });
    expect(find(rs, 'Service/shop/web').length).toBeGreaterThan(0);
    expect(find(rs, 'Namespace/shop').length).toBeGreaterThan(0); // cluster-scoped: left alone
  });

  it('an object naming another namespace than --namespace is refused, as kubectl refuses it', async () => {
    const r = await pipe(['--namespace', 'shop'], `${ns}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: other\n`);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/<stdin>:10: ConfigMap c is in namespace "other", which does not match --namespace "shop"/);
  });

  it('an empty stream is bad input', async () => {
    const r = await pipe([], '');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no YAML documents on standard input/);
  });
});
