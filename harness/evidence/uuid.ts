import { createHash } from 'node:crypto';

/**
 * RFC 4122 name-based UUIDs (version 5, SHA-1): the same name gives the same
 * UUID, so re-rendering a run's OSCAL document gives identical bytes.
 */
export const PCI_HARNESS_NAMESPACE = 'b3c7e0a4-5f1d-4c2b-9e8a-6d4f2a1c0b9e';

export function uuidV5(name: string, namespace: string = PCI_HARNESS_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`uuidV5: namespace "${namespace}" is not a UUID`);
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
