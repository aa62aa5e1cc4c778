import { createPrivateKey, createPublicKey } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/cli/paths.ts';
import { runReport } from '../report/fixtures.ts';
import { ATTESTATION_FILE, generateSigningKey, keyId, pae, PREDICATE_TYPE, verifyPackage } from './attest.ts';
import { listFiles, sha256File } from './digest.ts';
import { finishPackage, PACKAGE_FILES } from './package.ts';

/** A package as `run` leaves it before finishPackage: a few reports, raw results, a diagnostics file. */
function basePackage(dir: string): void {
  writeFileSync(join(dir, 'check.json'), '{"results":[]}\n');
  writeFileSync(join(dir, 'live.json'), '{"results":[]}\n');
  writeFileSync(join(dir, 'summary.md'), '# run\n');
  mkdirSync(join(dir, 'live-results', 'diagnostics'), { recursive: true });
  writeFileSync(join(dir, 'live-results', 'results.jsonl'), '{"check":"live.network.matrix"}\n');
  writeFileSync(join(dir, 'live-results', 'diagnostics', 'describe.txt'), 'pod describe\n');
}

const CLI = join(REPO_ROOT, 'scripts', 'pci-harness.mjs');
const cli = (...args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false, env: { PCI_HARNESS_CACHE: join(tmpdir(), 'pci-no-cache-here') } });

describe('signed evidence package (in-toto Statement v1 in a DSSE envelope, ECDSA P-256)', () => {
  let root: string;
  let keyDir: string;
  const keys = generateSigningKey();
  const key = createPrivateKey(keys.privatePem);
  const pub = createPublicKey(keys.publicPem);
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pci-package-'));
    keyDir = join(root, 'keys');
    mkdirSync(keyDir);
    writeFileSync(join(keyDir, 'k.pub'), keys.publicPem);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const fresh = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir);
    basePackage(dir);
    finishPackage(dir, runReport({ failing: true }), { signingKey: key });
    return dir;
  };

  it('PAE is the DSSE v1 encoding', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('the statement lists every file of the package with its sha256; the key is nowhere in it', () => {
    const dir = fresh('complete');
    const env = JSON.parse(readFileSync(join(dir, ATTESTATION_FILE), 'utf8'));
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe(PREDICATE_TYPE);
    expect(statement.predicate).toMatchObject({ exitCode: 1, requirements: { '1.3.1': 'fail', '4.2.1': 'not-tested', '7.2.1': 'pass' } });
    const files = listFiles(dir).filter((f) => f !== ATTESTATION_FILE);
    expect(files).toEqual(expect.arrayContaining(['report.html', 'assessment-results.json', 'SHA256SUMS', 'run.json', 'live-results/diagnostics/describe.txt']));
    expect(statement.subject).toEqual(files.map((f) => ({ name: f, digest: { sha256: sha256File(join(dir, f)) } })));
    expect(env.signatures[0].keyid).toBe(keyId(pub));
    const body = keys.privatePem.split('\n')[1] as string;
    for (const f of listFiles(dir)) expect(readFileSync(join(dir, f), 'utf8'), f).not.toContain(body);
    expect(verifyPackage(dir, pub)).toMatchObject({ signature: 'valid', changed: [], added: [], removed: [] });
  });

  it('the OSCAL document carries the sha256 of the files it links, and re-finishing the same run gives identical bytes', () => {
    const dir = fresh('oscal');
    const before = readFileSync(join(dir, PACKAGE_FILES.oscal), 'utf8');
    const html = readFileSync(join(dir, PACKAGE_FILES.html), 'utf8');
    const doc = JSON.parse(before)['assessment-results'];
    const live = doc['back-matter'].resources.find((r: { title: string }) => r.title === 'live.json');
    expect(live.rlinks[0].hashes[0]).toEqual({ algorithm: 'SHA-256', value: sha256File(join(dir, 'live.json')) });
    finishPackage(dir, runReport({ failing: true }), { signingKey: key });
    expect(readFileSync(join(dir, PACKAGE_FILES.oscal), 'utf8')).toBe(before);
    expect(readFileSync(join(dir, PACKAGE_FILES.html), 'utf8')).toBe(html);
    expect(verifyPackage(dir, pub).signature).toBe('valid'); // re-signed over the same files
  });

  it('verify: exit 0 on the untouched package; an edit, an added and a deleted file are each named (exit 1)', async () => {
    const dir = fresh('tamper');
    const ok = await cli('verify', dir, '--key', join(keyDir, 'k.pub'));
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK .*signature valid .* files match/);

    writeFileSync(join(dir, 'live.json'), '{"results":[],"edited":true}\n');
    let r = await cli('verify', dir, '--key', join(keyDir, 'k.pub'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('CHANGED  live.json');
    expect(r.stderr).not.toMatch(/ADDED|REMOVED/);

    writeFileSync(join(dir, 'live.json'), '{"results":[]}\n'); // restored byte for byte: clean again
    expect((await cli('verify', dir, '--key', join(keyDir, 'k.pub'))).exitCode).toBe(0);

    writeFileSync(join(dir, 'live-results', 'diagnostics', 'extra.txt'), 'planted\n');
    r = await cli('verify', dir, '--key', join(keyDir, 'k.pub'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ADDED    live-results/diagnostics/extra.txt');
    unlinkSync(join(dir, 'live-results', 'diagnostics', 'extra.txt'));

    unlinkSync(join(dir, 'summary.md'));
    r = await cli('verify', dir, '--key', join(keyDir, 'k.pub'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('REMOVED  summary.md');
  }, 60_000);

  it('verify: an altered attestation or a missing one is exit 1; a wrong or missing key is exit 2 with what to do', async () => {
    const dir = fresh('wrong-keys');
    const other = generateSigningKey();
    writeFileSync(join(keyDir, 'other.pub'), other.publicPem);
    let r = await cli('verify', dir, '--key', join(keyDir, 'other.pub'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/wrong key: the package was signed by key sha256:[0-9a-f]{64}, not by the given key/);

    r = await cli('verify', dir, '--key', join(keyDir, 'absent.pub'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no public key at .*absent\.pub\n {2}hint: pass the signer's public key/);
    r = await cli('verify', dir); // no --key, no env, nothing in the (empty) cache
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('no public key at');
    writeFileSync(join(keyDir, 'garbage.pub'), 'not a key\n');
    r = await cli('verify', dir, '--key', join(keyDir, 'garbage.pub'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('is not a PEM public key');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace

    // The statement edited to bless a changed file: the signature no longer verifies.
    const path = join(dir, ATTESTATION_FILE);
    const env = JSON.parse(readFileSync(path, 'utf8'));
    const st = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    writeFileSync(join(dir, 'summary.md'), '# forged\n');
    st.subject.find((s: { name: string }) => s.name === 'summary.md').digest.sha256 = sha256File(join(dir, 'summary.md'));
    writeFileSync(path, JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify(st)).toString('base64') }));
    r = await cli('verify', dir, '--key', join(keyDir, 'k.pub'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('the signature does not verify with the given key');

    unlinkSync(path);
    r = await cli('verify', dir, '--key', join(keyDir, 'k.pub'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${ATTESTATION_FILE} is missing`);
  }, 60_000);

  it('keygen writes the pair (private key 0600) and refuses the repository and an existing key', async () => {
    const out = join(root, 'made');
    const r = await cli('keygen', '--out', out);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'pci-evidence.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(join(out, 'pci-evidence.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(spawnSync('stat', ['-c', '%a', join(out, 'pci-evidence.key')], { encoding: 'utf8' }).stdout.trim()).toBe('600');
    expect((await cli('keygen', '--out', out)).exitCode).toBe(2);
    const inRepo = await cli('keygen', '--out', join(REPO_ROOT, 'out', 'keys'));
    expect(inRepo.exitCode).toBe(2);
    expect(inRepo.stderr).toContain('refusing to write a signing key inside the repository');
    expect(existsSync(join(REPO_ROOT, 'out', 'keys', 'pci-evidence.key'))).toBe(false);
  }, 30_000);
});

/**
 * Interop: the same envelope verifies with cosign (the signing image's
 * binary: `npx pci-harness images build signing`). cosign runs in a network
 * namespace of its own (unshare --net): key-based verification needs no
 * network, and its TUF refresh attempt cannot leave the machine.
 */
const COSIGN = join(process.env.PCI_HARNESS_CACHE || join(process.env.HOME ?? '/root', '.cache', 'pci-harness'), 'bin', 'cosign');
const cosignMissing = existsSync(COSIGN) ? undefined : `no cosign binary at ${COSIGN} (build it: npx pci-harness images build signing)`;
if (cosignMissing) process.stderr.write(`SKIP cosign interop: ${cosignMissing}\n`);

describe.skipIf(Boolean(cosignMissing))('cosign verify-blob-attestation accepts the envelope', () => {
  it('every file verifies with the right key; a changed file and a wrong key are refused', () => {
    const root = mkdtempSync(join(tmpdir(), 'pci-cosign-'));
    try {
      const dir = join(root, 'pkg');
      mkdirSync(dir);
      basePackage(dir);
      const keys = generateSigningKey();
      finishPackage(dir, runReport(), { signingKey: createPrivateKey(keys.privatePem) });
      writeFileSync(join(root, 'k.pub'), keys.publicPem);
      writeFileSync(join(root, 'other.pub'), generateSigningKey().publicPem);
      const netns = spawnSync('unshare', ['--net', 'true']).status === 0 ? ['unshare', '--net'] : [];
      const cosign = (pubKey: string, file: string) => {
        const argv = [...netns, COSIGN, 'verify-blob-attestation', '--insecure-ignore-tlog', '--key', join(root, pubKey), '--type', PREDICATE_TYPE, '--signature', join(dir, ATTESTATION_FILE), join(dir, file)];
        return spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 60_000, env: { ...process.env, TUF_ROOT: join(root, 'tuf') } });
      };
      for (const f of ['report.html', 'assessment-results.json', 'SHA256SUMS', 'live-results/results.jsonl']) {
        const r = cosign('k.pub', f);
        expect(r.status, `${f}: ${r.stderr}`).toBe(0);
        expect(r.stderr).toContain('Verified OK');
      }
      expect(cosign('other.pub', 'report.html').status).not.toBe(0);
      writeFileSync(join(dir, 'summary.md'), '# edited\n');
      const edited = cosign('k.pub', 'summary.md');
      expect(edited.status).not.toBe(0);
      expect(edited.stderr).toContain('no matching subject digest');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
