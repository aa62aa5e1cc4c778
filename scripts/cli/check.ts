import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { exitCodeFor, runAnalyzers } from '../../harness/check/run.ts';
import { InputError } from '../../harness/errors.ts';
import { loadManifests } from '../../harness/manifests/sources.ts';
import { renderJson } from '../../harness/report/json.ts';
import { renderJunit } from '../../harness/report/junit.ts';
import { renderSarif } from '../../harness/report/sarif.ts';
import { summarize } from '../../harness/report/summary.ts';
import { renderText } from '../../harness/report/text.ts';
import { controlMapTitles } from '../../harness/spec/control-map.ts';
import { DEFAULT_MANIFESTS, VERSION } from './paths.ts';

export const CHECK_USAGE = `Usage: pci-harness check [--manifests DIR|-] [--namespace NS] [--values FILE]... [--release NAME] [--spec DIR]
                         [--format text|json|junit|sarif] [--output FILE]
                         [--kyverno-cli PATH] [--skip-kyverno] [--verbose] [--timings]

Proves every PCI DSS v4.0 control of the manifest set offline (no cluster).
  --manifests X     manifest set to check (default: the shipped set, ${DEFAULT_MANIFESTS}):
                    a directory of YAML, a Kustomize directory (kustomization.yaml: rendered
                    with \`kubectl kustomize\`), a Helm chart (Chart.yaml: \`helm template\`),
                    or - for a manifest stream on standard input
  --namespace NS    namespace for namespaced objects that name none (as \`kubectl apply -n NS\`)
  --values FILE     Helm values file (repeatable, later files win); a chart only
  --release NAME    Helm release name (default: the chart directory's name)
  --spec DIR        declarations (pci-harness.dev/v1alpha1) kept outside the set, e.g. what
                    \`pci-harness init --out DIR\` wrote for a Kustomize, Helm or stdin set
  --format F        text (default), json, junit or sarif
  --output FILE     write the report to FILE instead of stdout
  --kyverno-cli P   Kyverno CLI binary (default: $PCI_HARNESS_KYVERNO, the image-build cache, PATH)
  --skip-kyverno    opt out of the Kyverno CLI lane: its checks are reported as skipped, not failed
  --verbose         list every passed check too (text format)
  --timings         print per-analyzer time on stderr
Exit: 0 every control holds, 1 a control failed, 2 bad input or usage.`;

const FORMATS = ['text', 'json', 'junit', 'sarif'] as const;

export async function checkCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      manifests: { type: 'string', default: DEFAULT_MANIFESTS },
      namespace: { type: 'string' },
      values: { type: 'string', multiple: true },
      release: { type: 'string' },
      spec: { type: 'string' },
      format: { type: 'string', default: 'text' },
      output: { type: 'string' },
      'kyverno-cli': { type: 'string' },
      'skip-kyverno': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      timings: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${CHECK_USAGE}\n`);
    return 0;
  }
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) {
    throw new InputError(`unknown --format "${values.format}"`, { hint: `use one of: ${FORMATS.join(', ')}` });
  }
  const loadStart = performance.now();
  const { set } = loadManifests(values.manifests, {
    ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
    ...(values.values ? { values: values.values } : {}),
    ...(values.release !== undefined ? { release: values.release } : {}),
    ...(values.spec !== undefined ? { spec: values.spec } : {}),
  });
  const loadMs = performance.now() - loadStart;
  const run = await runAnalyzers(set, defaultAnalyzers(), {
    kyvernoCli: values['kyverno-cli'],
    skipKyverno: values['skip-kyverno'],
  });
  const summary = summarize(run.results, controlMapTitles(set));
  const meta = { manifests: values.manifests, manifestsDir: set.dir, version: VERSION };
  const rendered =
    format === 'json'
      ? renderJson(summary, meta)
      : format === 'junit'
        ? renderJunit(summary)
        : format === 'sarif'
          ? renderSarif(summary, meta)
          : renderText(summary, { verbose: values.verbose });
  if (values.output) writeFileSync(values.output, `${rendered}\n`);
  else process.stdout.write(`${rendered}\n`);
  if (values.timings) {
    const external = new Set(defaultAnalyzers().filter((a) => a.external).map((a) => a.area));
    const inProcess = loadMs + run.timings.filter((t) => !external.has(t.area)).reduce((a, t) => a + t.ms, 0);
    const parts = [`load ${loadMs.toFixed(1)} ms`, ...run.timings.map((t) => `${t.area}${external.has(t.area) ? ' (child process, overlapped)' : ''} ${t.ms.toFixed(1)} ms`)];
    process.stderr.write(
      `timings: ${parts.join(', ')}\n` +
        `  in-process analysis ${inProcess.toFixed(1)} ms; wall clock from load to verdict ${(performance.now() - loadStart).toFixed(1)} ms (Node start-up not included)\n`,
    );
  }
  return exitCodeFor(run.results);
}
