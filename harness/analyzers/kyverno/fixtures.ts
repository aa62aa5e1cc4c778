/**
 * The Kyverno behaviour fixtures: resources the set's policies are run
 * against, each carrying its expected verdict in annotations (see
 * suites/offline/fixtures/kyverno/README.md):
 *
 *   pci-harness.dev/expect: admit | deny | not-matched | generate
 *   pci-harness.dev/rule: <rule name that must deny>   (deny only; autogen-<rule> for controllers)
 *   pci-harness.dev/requirement: "2.2.6"
 *   pci-harness.dev/case: <what the case proves>
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../errors.ts';
import { parseManifestText } from '../../manifests/load.ts';
import type { K8sObject } from '../../manifests/types.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_FIXTURE_DIR = join(REPO_ROOT, 'suites', 'offline', 'fixtures', 'kyverno', 'resources');

export type Expect = 'admit' | 'deny' | 'not-matched' | 'generate';
const EXPECTS: readonly string[] = ['admit', 'deny', 'not-matched', 'generate'];

export interface Fixture {
  object: K8sObject;
  /** Repo-relative path, for messages. */
  file: string;
  line: number;
  expect: Expect;
  rule?: string;
  requirement: string;
  description: string;
  /** Check id to report under (default: derived from the kind). */
  check?: string;
}

/** Pod-controller kinds Kyverno autogen covers; their rules are named autogen-<rule> (CronJob: autogen-cronjob-<rule>). */
export const AUTOGEN_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController']);

/** The rule name Kyverno reports for `rule` evaluated against a resource of `kind`. */
export function reportedRuleName(rule: string, kind: string): string {
  if (kind === 'CronJob') return `autogen-cronjob-${rule}`;
  return AUTOGEN_KINDS.has(kind) ? `autogen-${rule}` : rule;
}

export function loadFixtures(dir = DEFAULT_FIXTURE_DIR): Fixture[] {
  const out: Fixture[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    const path = join(dir, name);
    const file = relative(REPO_ROOT, path);
    for (const lo of parseManifestText(readFileSync(path, 'utf8'), file)) {
      const a = lo.object.metadata.annotations ?? {};
      const expect = a['pci-harness.dev/expect'];
      const requirement = a['pci-harness.dev/requirement'];
      if (!expect || !EXPECTS.includes(expect) || !requirement) {
        throw new InputError('Kyverno fixture lacks pci-harness.dev/expect (admit|deny|not-matched|generate) or pci-harness.dev/requirement', {
          file,
          line: lo.source.line,
        });
      }
      const rule = a['pci-harness.dev/rule'];
      if (expect === 'deny' && !rule) throw new InputError('a deny fixture must name the rule that denies it (pci-harness.dev/rule)', { file, line: lo.source.line });
      out.push({
        object: lo.object,
        file,
        line: lo.source.line,
        expect: expect as Expect,
        rule,
        requirement,
        description: (a['pci-harness.dev/case'] ?? name).trim(),
      });
    }
  }
  return out;
}

/** `Kind/namespace/name`, the key Kyverno results are matched on. */
export function fixtureId(o: K8sObject): string {
  return o.metadata.namespace ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}` : `${o.kind}/${o.metadata.name}`;
}
