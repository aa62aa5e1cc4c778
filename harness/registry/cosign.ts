import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cluster/exec.ts';
import { cacheDir } from '../cluster/paths.ts';

/**
 * cosign key pairs that exist for one signing session and are deleted after
 * (`await using k = await keyPair()`): a temp dir (0700), a random password
 * that only ever travels in the environment of cosign (never an argument,
 * never logged), the public key read back for the policy. Signing runs cosign
 * in a throwaway container on the cluster's Docker network, so the image is
 * signed under the name the cluster uses (the host cannot resolve it).
 */
export function cosignBinary(): string {
  const p = join(cacheDir(), 'bin', 'cosign');
  if (!existsSync(p)) throw new Error(`cosign not found at ${p}: build it with \`npx pci-harness images build signing\``);
  return p;
}

export interface KeyPair extends AsyncDisposable {
  /** The PEM public key (safe to log and to put in a policy). */
  publicKey: string;
  /** Sign `ref` (digest references; several in one cosign run) with this key, from a container on `network`. Returns cosign's output (no secret in it). */
  sign(ref: string | string[], opts: { network: string; image: string }): Promise<string>;
}

export async function keyPair(): Promise<KeyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'pci-cosign-'));
  const password = randomBytes(24).toString('base64url');
  const dispose = async () => rmSync(dir, { recursive: true, force: true });
  try {
    await run(cosignBinary(), ['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], { env: { COSIGN_PASSWORD: password }, timeoutMs: 30_000 });
    const publicKey = readFileSync(join(dir, 'cosign.pub'), 'utf8');
    return {
      publicKey,
      async sign(ref, opts) {
        const refs = typeof ref === 'string' ? [ref] : ref;
        // The password reaches the container by name only (`-e COSIGN_PASSWORD`, value from this env), never on a command line.
        const r = await run(
          'docker',
          [
            'run', '--rm', '--network', opts.network, '--user', '0:0', '--entrypoint', '/cosign',
            '-e', 'COSIGN_PASSWORD', '-e', 'TUF_ROOT=/tmp/tuf',
            '-v', `${cosignBinary()}:/cosign:ro`, '-v', `${dir}:/keys:ro`,
            opts.image,
            // Key-based and offline: no Rekor upload, no TUF signing config, legacy `.sig` tag (what Kyverno 1.16 reads); plain HTTP.
            'sign', '--yes', '--key', '/keys/cosign.key', '--tlog-upload=false', '--use-signing-config=false', '--new-bundle-format=false',
            '--allow-http-registry', '--allow-insecure-registry', ...refs,
          ],
          { env: { COSIGN_PASSWORD: password }, timeoutMs: 120_000, reject: false },
        );
        if (r.exitCode !== 0) throw new Error(`cosign sign ${refs.join(' ')} exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
        return `${r.stdout}\n${r.stderr}`.trim();
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}
