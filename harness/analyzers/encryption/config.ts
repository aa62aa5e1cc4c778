/** EncryptionConfiguration (apiserver.config.k8s.io/v1) as written: providers keep their raw shape. */
export interface ProviderEntry {
  /** Provider type keys present in the element (upstream requires exactly one). */
  types: string[];
  type: string | undefined;
  body: Record<string, unknown>;
}
export interface ResourceEntry {
  resources: string[];
  providers: ProviderEntry[];
}

const PROVIDER_TYPES = ['kms', 'aesgcm', 'aescbc', 'secretbox', 'identity'];

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function decodeEncryptionConfig(o: Record<string, unknown>): ResourceEntry[] {
  const list = Array.isArray(o.resources) ? o.resources : [];
  return list.map((e) => {
    const x = isObj(e) ? e : {};
    const providers = (Array.isArray(x.providers) ? x.providers : []).map((p) => {
      const po = isObj(p) ? p : {};
      const types = Object.keys(po).filter((k) => PROVIDER_TYPES.includes(k));
      const body = types[0] !== undefined && isObj(po[types[0]]) ? (po[types[0]] as Record<string, unknown>) : {};
      return { types, type: types[0], body };
    });
    return { resources: (Array.isArray(x.resources) ? x.resources : []).filter((r): r is string => typeof r === 'string'), providers };
  });
}

/** schema.ParseGroupResource: "secrets" → {"" , secrets}; "*." → {"", *}; "*.*" → {*, *}; "deployments.apps" → {apps, deployments}. */
export function parseGroupResource(s: string): { group: string; resource: string } {
  const i = s.indexOf('.');
  return i < 0 ? { group: '', resource: s } : { group: s.slice(i + 1), resource: s.slice(0, i) };
}

/**
 * Which entry encrypts core `secrets`? Upstream
 * (k8s.io/apiserver/pkg/server/options/encryptionconfig/config.go) looks up the exact
 * group/resource first, then `*.<group>`, then `*.*`; an exact resource listed AFTER a
 * wildcard that already covers it is an error ("masked by earlier rule").
 */
export function entryForSecrets(entries: ResourceEntry[]): { index: number; via: string; masked?: { index: number; by: string } } | undefined {
  let exact: number | undefined;
  let group: number | undefined;
  let any: number | undefined;
  let masked: { index: number; by: string } | undefined;
  entries.forEach((e, i) => {
    for (const r of e.resources) {
      const gr = parseGroupResource(r);
      if (gr.group === '' && gr.resource === 'secrets') {
        if ((group !== undefined || any !== undefined) && !masked) masked = { index: i, by: group !== undefined ? '*.' : '*.*' };
        exact ??= i;
      } else if (gr.group === '' && gr.resource === '*') group ??= i;
      else if (gr.group === '*' && gr.resource === '*') any ??= i;
    }
  });
  if (exact !== undefined) return { index: exact, via: 'secrets', masked };
  if (group !== undefined) return { index: group, via: '*.', masked };
  if (any !== undefined) return { index: any, via: '*.*', masked };
  return undefined;
}
