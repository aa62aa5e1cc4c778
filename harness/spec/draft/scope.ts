import { InputError } from '../../errors.ts';
import { namespaceObjects } from '../../analyzers/workloads.ts';
import type { ManifestSet } from '../../manifests/types.ts';
import type { ScopeDeclarationSpec } from '../types.ts';

const PSA_VERSION = 'pod-security.kubernetes.io/enforce-version';

/**
 * The scope a set shows: namespaces carrying the defaults' scope label
 * (pci-scope=in-scope), or the ones the user names. The CDE node marking
 * and PSA version default to the shipped declaration's, unless every
 * in-scope namespace already pins one PSA version.
 */
export function draftScope(set: ManifestSet, defaults: ScopeDeclarationSpec, scopeNamespaces?: string[]): ScopeDeclarationSpec {
  const namespaces = namespaceObjects(set);
  const label = Object.entries(defaults.scopeLabel);
  let names: string[];
  if (scopeNamespaces && scopeNamespaces.length > 0) {
    const unknown = scopeNamespaces.filter((n) => !namespaces.has(n));
    if (unknown.length) {
      throw new InputError(`--scope-namespaces names ${unknown.join(', ')}, which the set does not create`, { hint: `the set's namespaces: ${[...namespaces.keys()].join(', ') || '(none)'}` });
    }
    names = [...new Set(scopeNamespaces)].sort();
  } else {
    names = [...namespaces.entries()].filter(([, o]) => label.every(([k, v]) => o.object.metadata.labels?.[k] === v)).map(([n]) => n).sort();
    if (names.length === 0) {
      throw new InputError(`no Namespace in the set carries the scope label ${label.map(([k, v]) => `${k}=${v}`).join(',')}`, {
        hint: 'label the namespaces that hold or reach cardholder data, or pass --scope-namespaces a,b',
      });
    }
  }
  const versions = new Set(names.map((n) => namespaces.get(n)?.object.metadata.labels?.[PSA_VERSION]));
  const pinned = versions.size === 1 ? [...versions][0] : undefined;
  return {
    scopeLabel: { ...defaults.scopeLabel },
    namespaces: names,
    podSecurityVersion: pinned && /^(latest|v\d+\.\d+)$/.test(pinned) ? pinned : defaults.podSecurityVersion,
    cdeNodes: structuredClone(defaults.cdeNodes),
  };
}
