import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../../harness/errors.ts';
import { assembleSet, parseManifestText } from '../../harness/manifests/load.ts';
import { loadManifests, type SourceOptions } from '../../harness/manifests/sources.ts';
import { draftSpecs } from '../../harness/spec/draft/index.ts';
import { REVIEW_ANNOTATION, REVIEWED } from '../../harness/spec/review.ts';
import { EXIT } from './exit-codes.ts';
import { REPO_ROOT } from './paths.ts';

export const INIT_USAGE = `Usage: pci-harness init --manifests X --out DIR [--namespace NS] [--values FILE]... [--release NAME]
                        [--scope-namespaces NS,NS...] [--force]

Drafts the declarations (spec/) a manifest set needs for \`pci-harness check\`, from what
the set does today, for a person to review:
  scope.yaml               ScopeDeclaration: namespaces labelled pci-scope=in-scope (or --scope-namespaces)
  flows.yaml               FlowTable: every flow the NetworkPolicies allow to or from the scope
  access.yaml              AccessTable: every subject's effective permissions from the set's RBAC
  audit-expectations.yaml  AuditExpectations: the shipped defaults, moved to the set's namespaces
Each is marked metadata.annotations["${REVIEW_ANNOTATION}"]: draft, and \`check\` fails
spec.reviewed (PCI DSS 12.5.2) until a person has confirmed it and set it to "${REVIEWED}".
Declarations the set already has are kept, not redrafted.
  --manifests X          as for check: a YAML directory, Kustomize dir, Helm chart, or - (stdin)
  --out DIR              where to write the drafts (created if missing)
  --namespace, --values, --release   as for check
  --scope-namespaces L   comma-separated in-scope namespaces, instead of the pci-scope label
  --force                overwrite files already in DIR
Exit: 0 drafts written, 2 bad input or usage.`;

export async function initCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      manifests: { type: 'string' },
      out: { type: 'string' },
      namespace: { type: 'string' },
      values: { type: 'string', multiple: true },
      release: { type: 'string' },
      'scope-namespaces': { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${INIT_USAGE}\n`);
    return EXIT.ok;
  }
  if (!values.manifests) throw new InputError('--manifests is required', { hint: 'name the set to draft declarations for: pci-harness init --manifests DIR --out DIR' });
  if (!values.out) throw new InputError('--out is required', { hint: 'name the directory the drafts go to, e.g. --out my-set/spec' });
  const opts: SourceOptions = {
    ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
    ...(values.values ? { values: values.values } : {}),
    ...(values.release !== undefined ? { release: values.release } : {}),
  };
  const { set, kind } = loadManifests(values.manifests, opts);
  const scopeNamespaces = values['scope-namespaces']?.split(',').map((s) => s.trim()).filter(Boolean);
  const draft = draftSpecs(set, { shippedDir: join(REPO_ROOT, 'manifests'), ...(scopeNamespaces ? { scopeNamespaces } : {}) });

  const out = resolve(values.out);
  const clash = draft.files.filter((f) => existsSync(join(out, f.name)));
  if (clash.length && !values.force) {
    throw new InputError(`${values.out} already has ${clash.map((f) => f.name).join(', ')}`, { hint: 'review and keep them, or pass --force to overwrite them with new drafts' });
  }
  // The drafts must be valid input to check (schemas, duplicates): a failure here is a harness bug, caught before anything is written.
  assembleSet(set.dir, [...set.objects, ...draft.files.flatMap((f) => parseManifestText(f.text, f.name))]);
  mkdirSync(out, { recursive: true });
  for (const f of draft.files) writeFileSync(join(out, f.name), f.text);

  const lines = [`Drafted ${draft.files.length} declaration(s) in ${values.out}:`, ...draft.files.map((f) => `  ${f.name.padEnd(24)} ${f.summary}`)];
  if (draft.kept.length) lines.push('Kept (the set already declares them):', ...draft.kept.map((k) => `  ${k}`));
  const specFlag = insideSet(out, set.dir, kind) ? '' : ` --spec ${values.out}`;
  const again = [values.manifests === '-' ? '... | pci-harness check --manifests -' : `pci-harness check --manifests ${values.manifests}`, values.namespace ? `--namespace ${values.namespace}` : '', ...(values.values ?? []).map((v) => `--values ${v}`)].filter(Boolean).join(' ');
  lines.push(
    'Next: review every entry (these describe what the set DOES, not what it should do), remove what is not intended,',
    `then set metadata.annotations["${REVIEW_ANNOTATION}"] to "${REVIEWED}" in each file and run:`,
    `  ${again}${specFlag}`,
    'Until then check fails spec.reviewed (12.5.2).',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/** A directory of YAML loads everything under it: drafts written inside it need no --spec. */
function insideSet(out: string, setDir: string, kind: string): boolean {
  return kind === 'yaml' && (out === setDir || out.startsWith(setDir + sep));
}
