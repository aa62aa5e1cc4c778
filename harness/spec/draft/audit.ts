import type { AuditExpectationsSpec } from '../types.ts';

type Case = AuditExpectationsSpec['cases'][number];

/**
 * The shipped audit expectations, moved onto the user's namespaces: each
 * shipped in-scope namespace maps to one of the user's (round robin), in the
 * request's namespace, in a namespace object's name, and inside
 * ServiceAccount user and group names (`system:serviceaccount:NS:SA`,
 * `system:serviceaccounts:NS`), where the SA becomes one the user's set has
 * in that namespace when there is one. Everything else (who, verb, level,
 * stages) is the shipped default: what PCI DSS 10.2 needs logged does not
 * depend on the workload.
 */
export function adaptAudit(
  cases: Case[],
  shippedNamespaces: string[],
  userNamespaces: string[],
  serviceAccounts: Map<string, string[]>,
): Case[] {
  const nsMap = new Map(shippedNamespaces.map((n, i) => [n, userNamespaces[i % userNamespaces.length] as string]));
  const ns = (n: string) => nsMap.get(n) ?? n;
  const principal = (s: string) => {
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(s);
    if (sa) {
      const to = ns(sa[1] as string);
      const own = serviceAccounts.get(to) ?? [];
      const name = own.includes(sa[2] as string) ? (sa[2] as string) : (own.find((n) => n !== 'default') ?? own[0] ?? (sa[2] as string));
      return `system:serviceaccount:${to}:${name}`;
    }
    const group = /^system:serviceaccounts:([^:]+)$/.exec(s);
    return group ? `system:serviceaccounts:${ns(group[1] as string)}` : s;
  };
  return cases.map((c) => {
    const r = { ...c.request };
    if (r.namespace !== undefined) r.namespace = ns(r.namespace);
    if (r.resource === 'namespaces' && r.name !== undefined) r.name = ns(r.name);
    if (r.user !== undefined) r.user = principal(r.user);
    if (r.groups) r.groups = r.groups.map(principal);
    return { ...structuredClone(c), request: r };
  });
}
