import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../check/types.ts';
import { setFromTexts } from '../manifests/load.ts';
import { encryptionAnalyzer, validateKeyMaterial } from './encryption.ts';

const guide = readFileSync(new URL('./encryption/fixtures/guide-encryption-config.yaml', import.meta.url), 'utf8');
const kind = readFileSync(new URL('./audit/fixtures/kind-cluster.yaml', import.meta.url), 'utf8');
const good = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - secretbox:
          keys:
            - name: key-1
              secret: \${ENCRYPTION_KEY}
      - identity: {}
`;

async function run(config: string | undefined, kindText = kind): Promise<CheckResult[]> {
  const files: Record<string, string> = { 'kind/cluster.yaml': kindText };
  if (config !== undefined) files['control-plane/encryption-config.yaml'] = config;
  return encryptionAnalyzer.run(setFromTexts(files), {});
}
const fails = (rs: CheckResult[], check: string) => rs.filter((r) => r.check === check && r.status === 'fail');

describe('validateKeyMaterial (upstream validateKey)', () => {
  it('accepts the sizes upstream accepts', () => {
    expect(validateKeyMaterial('secretbox', randomBytes(32).toString('base64'))).toEqual({ ok: true, bytes: 32 });
    for (const n of [16, 24, 32]) expect(validateKeyMaterial('aescbc', randomBytes(n).toString('base64'))).toEqual({ ok: true, bytes: n });
  });
  it('rejects wrong sizes, non-base64, empty, and never echoes the value', () => {
    const k = randomBytes(16).toString('base64');
    const r = validateKeyMaterial('secretbox', k);
    expect(r).toMatchObject({ ok: false });
    expect(JSON.stringify(r)).not.toContain(k);
    expect(validateKeyMaterial('aesgcm', randomBytes(20).toString('base64'))).toMatchObject({ ok: false, reason: expect.stringContaining('20 bytes') });
    expect(validateKeyMaterial('aesgcm', 'not base64!')).toMatchObject({ ok: false, reason: expect.stringContaining('base64') });
    expect(validateKeyMaterial('aesgcm', randomBytes(32).toString('base64url').replace(/=/g, ''))).toMatchObject({ ok: false });
    expect(validateKeyMaterial('secretbox', '')).toMatchObject({ ok: false });
    expect(validateKeyMaterial('identity', 'x')).toMatchObject({ ok: false });
  });
});

describe('encryptionAnalyzer', () => {
  it('passes a secretbox template with a placeholder, wired into kind', async () => {
    const rs = await run(good);
    expect(rs.filter((r) => r.status === 'fail')).toEqual([]);
    for (const c of ['encryption.secrets-covered', 'encryption.provider', 'encryption.key-material', 'encryption.wired']) {
      expect(rs.some((r) => r.check === c && r.status === 'pass'), c).toBe(true);
    }
  });

  it("the guide's aesgcm configuration fails provider (3.6.1) and key-material", async () => {
    const rs = await run(guide);
    const p = fails(rs, 'encryption.provider');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ requirement: '3.6.1', file: 'control-plane/encryption-config.yaml', line: 8 });
    expect(p[0]?.message).toContain('aesgcm is not recommended upstream unless keys rotate automatically');
    expect(fails(rs, 'encryption.key-material')[0]?.message).toContain('not standard padded base64');
  });

  it('identity first fails; aescbc passes with a warning; kms v1 fails; kms v2 passes', async () => {
    const identityFirst = good.replace('      - secretbox:\n          keys:\n            - name: key-1\n              secret: ${ENCRYPTION_KEY}\n      - identity: {}\n', '      - identity: {}\n      - secretbox:\n          keys:\n            - name: key-1\n              secret: ${ENCRYPTION_KEY}\n');
    expect(fails(await run(identityFirst), 'encryption.provider')[0]?.message).toContain('WRITTEN in plaintext');
    const cbc = (await run(good.replace('secretbox:', 'aescbc:'))).find((r) => r.check === 'encryption.provider');
    expect(cbc).toMatchObject({ status: 'pass' });
    expect(cbc?.message).toContain('padding oracle');
    const kms = (v: string) => good.replace(/      - secretbox:[\s\S]*?ENCRYPTION_KEY\}\n/, `      - kms:\n          apiVersion: ${v}\n          name: vault\n          endpoint: unix:///run/kms.sock\n`);
    expect(fails(await run(kms('v1')), 'encryption.provider')[0]?.message).toContain('deprecated');
    expect(fails(await run(kms('v2')), 'encryption.provider')).toEqual([]);
  });

  it('committed real key material fails 3.6.1 without printing it', async () => {
    const key = randomBytes(32).toString('base64');
    const rs = await run(good.replace('${ENCRYPTION_KEY}', key));
    const f = fails(rs, 'encryption.key-material');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ requirement: '3.6.1', line: 10 });
    expect(f[0]?.message).toContain('real key material committed');
    expect(JSON.stringify(rs)).not.toContain(key);
    expect(JSON.stringify(rs)).not.toContain(key.slice(0, 12));
  });

  it('duplicate and empty key names fail', async () => {
    const dup = good.replace('              secret: ${ENCRYPTION_KEY}\n', '              secret: ${ENCRYPTION_KEY}\n            - name: key-1\n              secret: ${OTHER_KEY}\n            - name: ""\n              secret: ${THIRD}\n');
    const msgs = fails(await run(dup), 'encryption.key-material').map((r) => r.message);
    expect(msgs.some((m) => m.includes('"key-1" is used twice'))).toBe(true);
    expect(msgs.some((m) => m.includes('has no name'))).toBe(true);
  });

  it('secrets not covered, or masked by an earlier wildcard, fails 8.3.2; "*." and "*.*" cover', async () => {
    expect(fails(await run(good.replace('      - secrets\n', '      - configmaps\n')), 'encryption.secrets-covered')[0]).toMatchObject({ requirement: '8.3.2', message: expect.stringContaining('no resources entry covers "secrets"') });
    expect(fails(await run(good.replace('      - secrets\n', "      - '*.'\n")), 'encryption.secrets-covered')).toEqual([]);
    expect(fails(await run(good.replace('      - secrets\n', "      - '*.*'\n")), 'encryption.secrets-covered')).toEqual([]);
    const masked = good.replace('resources:\n  - resources:\n      - secrets\n', "resources:\n  - resources:\n      - '*.*'\n    providers:\n      - identity: {}\n  - resources:\n      - secrets\n");
    const rs = await run(masked);
    expect(fails(rs, 'encryption.secrets-covered')[0]?.message).toContain('masked by the earlier "*.*"');
    expect(fails(await run(good.replace('      - secrets\n', "      - '*'\n")), 'encryption.secrets-covered').some((r) => r.message.includes('rejected by the apiserver'))).toBe(true);
  });

  it('no EncryptionConfiguration fails; kind config without the flag or the mount fails encryption.wired', async () => {
    expect(fails(await run(undefined), 'encryption.secrets-covered')[0]?.message).toContain('no EncryptionConfiguration');
    const noFlag = kind.replace('            encryption-provider-config: /etc/kubernetes/pci/encryption-config.yaml\n', '');
    expect(fails(await run(good, noFlag), 'encryption.wired')[0]?.message).toContain('no --encryption-provider-config');
    const elsewhere = kind.replace('encryption-provider-config: /etc/kubernetes/pci/', 'encryption-provider-config: /etc/other/');
    expect(fails(await run(good, elsewhere), 'encryption.wired')[0]).toMatchObject({ requirement: '3.6.1', line: 15, message: expect.stringContaining('not under any apiServer.extraVolumes') });
  });
});
