/**
 * Just enough IP/CIDR arithmetic for NetworkPolicy ipBlock: parse IPv4/IPv6
 * CIDRs and addresses, containment and the "except must be a strict subset of
 * cidr" rule that the apiserver enforces (k8s.io/kubernetes
 * pkg/apis/networking/validation ValidateIPBlock: except must be contained in
 * cidr AND have a longer prefix).
 */
export interface Cidr {
  family: 4 | 6;
  /** Network address with host bits cleared. */
  base: bigint;
  prefix: number;
  text: string;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export function parseIp(s: string): { family: 4 | 6; value: bigint } | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseV6(s);
  if (v6 !== undefined) return { family: 6, value: v6 };
  return undefined;
}

/** Parse "a.b.c.d/n" or "x::/n"; undefined when malformed (the apiserver would reject it). */
export function parseCidr(text: string): Cidr | undefined {
  // No trimming: " 10.0.0.0/8" is rejected by the apiserver (netutils.ParseCIDRSloppy).
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const ip = parseIp(m[1] as string);
  if (!ip) return undefined;
  const prefix = Number(m[2]);
  const width = ip.family === 4 ? 32 : 128;
  if (prefix > width) return undefined;
  const hostBits = BigInt(width - prefix);
  const base = (ip.value >> hostBits) << hostBits;
  return { family: ip.family, base, prefix, text };
}

export function cidrContainsIp(c: Cidr, ip: { family: 4 | 6; value: bigint }): boolean {
  if (c.family !== ip.family) return false;
  const hostBits = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  return ip.value >> hostBits === c.base >> hostBits;
}

/** inner ⊊ outer, as ValidateIPBlock requires of each `except` entry. */
export function isStrictSubset(inner: Cidr, outer: Cidr): boolean {
  return inner.family === outer.family && inner.prefix > outer.prefix && cidrContainsIp(outer, { family: inner.family, value: inner.base });
}

/** First and last address of a CIDR. */
export function cidrRange(c: Cidr): [bigint, bigint] {
  const hostBits = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  return [c.base, c.base + (1n << hostBits) - 1n];
}

/**
 * How much of network `net` an ipBlock (cidr minus except) holds: none, part
 * of it, or all of it. Used for the pod and Service networks: an ipBlock that
 * holds any pod address may admit pods (Calico matches ipBlock against pod
 * IPs; Cilium does not between its own endpoints: the wider reading is kept), and one that holds only part of it admits whichever pods
 * happen to get an address there.
 */
export function ipBlockCoverage(block: { cidr: Cidr; except: Cidr[] }, net: Cidr): 'none' | 'partial' | 'full' {
  if (block.cidr.family !== net.family) return 'none';
  const [blo, bhi] = cidrRange(block.cidr);
  const [nlo, nhi] = cidrRange(net);
  const lo = blo > nlo ? blo : nlo;
  const hi = bhi < nhi ? bhi : nhi;
  if (lo > hi) return 'none';
  // Except ranges clipped to the overlap, merged: do they leave any address of it?
  const holes = block.except
    .filter((e) => e.family === net.family)
    .map(cidrRange)
    .map(([a, b]): [bigint, bigint] => [a > lo ? a : lo, b < hi ? b : hi])
    .filter(([a, b]) => a <= b)
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  let next = lo;
  let left = false;
  for (const [a, b] of holes) {
    if (a > next) left = true;
    if (b + 1n > next) next = b + 1n;
  }
  if (next <= hi) left = true;
  if (!left) return 'none';
  return holes.length === 0 && lo === nlo && hi === nhi ? 'full' : 'partial';
}
