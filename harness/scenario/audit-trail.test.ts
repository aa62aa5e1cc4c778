import { describe, expect, it } from 'vitest';
import { parseShippedObject, sha256Hex } from './audit-trail.ts';

describe('a shipped audit object (marshaler body: JSON lines)', () => {
  it('keeps audit events, counts anything else as foreign', () => {
    const body = ['{"auditID":"a","stage":"ResponseComplete","verb":"get"}', '{"pciHarnessTamperAttempt":"x"}', 'not json', '', '{"auditID":"b","stage":"ResponseComplete"}', ''].join('\n');
    const p = parseShippedObject(body);
    expect(p.events.map((e) => e.auditID)).toEqual(['a', 'b']);
    expect(p.foreign).toBe(2);
  });

  it('hashes the bytes as stored (sha256, hex)', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
