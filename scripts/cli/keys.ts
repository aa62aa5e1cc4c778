import type { KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { ATTESTATION_FILE, generateSigningKey, keyId, loadPrivateKey, loadPublicKey, PREDICATE_TYPE, type PackageVerification } from '../../harness/evidence/attest.ts';
import { SHARDS_DIR, verifyMerged } from '../../harness/evidence/merge.ts';
import { InputError } from '../../harness/errors.ts';
import { cacheDir } from '../../harness/tools/locate.ts';
import { EXIT } from './exit-codes.ts';
import { REPO_ROOT } from './paths.ts';

/**
 * The evidence signing key: `pci-harness keygen` makes it, `run` signs with
 * it, `verify` checks with its public half. Private key: --key, else
 * $PCI_HARNESS_SIGNING_KEY, else $PCI_HARNESS_CACHE/signing/pci-evidence.key
 * (made on first use). It is never written inside the repository or the
 * evidence package.
 */
export const KEY_NAME = 'pci-evidence';
export const SIGNING_KEY_ENV = 'PCI_HARNESS_SIGNING_KEY';
export const VERIFY_KEY_ENV = 'PCI_HARNESS_VERIFY_KEY';

export const defaultKeyDir = () => join(cacheDir(), 'signing');

const inside = (child: string, parent: string) => {
  const r = relative(resolve(parent), resolve(child));
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && r !== '..');
};

export function writeKeyPair(dir: string): { key: string; pub: string } {
  if (inside(dir, REPO_ROOT)) throw new InputError(`refusing to write a signing key inside the repository (${dir})`, { hint: `a key must never be committed: use a directory outside ${REPO_ROOT}, e.g. the default ${defaultKeyDir()}` });
  const key = join(dir, `${KEY_NAME}.key`);
  const pub = join(dir, `${KEY_NAME}.pub`);
  for (const f of [key, pub]) if (existsSync(f)) throw new InputError(`${f} exists: refusing to overwrite a key`, { hint: 'move it away first, or choose another --out' });
  const { privatePem, publicPem } = generateSigningKey();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(key, privatePem, { mode: 0o600 });
  chmodSync(key, 0o600);
  writeFileSync(pub, publicPem);
  return { key, pub };
}

/** The private key `run` signs with; made in the cache the first time when none is named. */
export function signingKeyFor(flag: string | undefined, out: string, env: NodeJS.ProcessEnv = process.env): { key: KeyObject; path: string; created: boolean } {
  const named = flag ?? env[SIGNING_KEY_ENV];
  const path = resolve(named ?? join(defaultKeyDir(), `${KEY_NAME}.key`));
  if (inside(path, out)) throw new InputError(`the signing key ${path} is inside the evidence package ${out}`, { hint: 'a private key must never be part of the evidence: keep it outside --out' });
  let created = false;
  if (!existsSync(path)) {
    if (named) throw new InputError(`signing key ${path} does not exist`, { hint: `make one with \`pci-harness keygen --out DIR\` (then --key DIR/${KEY_NAME}.key), or unset ${SIGNING_KEY_ENV} to use the default key` });
    writeKeyPair(defaultKeyDir());
    created = true;
  }
  try {
    return { key: loadPrivateKey(readFileSync(path, 'utf8'), path), path, created };
  } catch (e) {
    throw new InputError((e as Error).message, { hint: `pass the .key file \`pci-harness keygen\` wrote (--key or ${SIGNING_KEY_ENV})` });
  }
}

export const KEYGEN_USAGE = `Usage: pci-harness keygen [--out DIR]

Makes the ECDSA P-256 key pair that signs evidence packages:
  DIR/${KEY_NAME}.key   private key (PKCS#8 PEM, mode 0600): for \`run --key\` or $${SIGNING_KEY_ENV}
  DIR/${KEY_NAME}.pub   public key (SPKI PEM): give it to whoever verifies (pci-harness verify, cosign)
  --out DIR   default ${'$'}PCI_HARNESS_CACHE/signing (~/.cache/pci-harness/signing); never inside the repository
Exit: 0 written, 2 the key exists or DIR is inside the repository.`;

export async function keygenCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } }, strict: true });
  if (values.help) {
    process.stdout.write(`${KEYGEN_USAGE}\n`);
    return EXIT.ok;
  }
  const { key, pub } = writeKeyPair(resolve(values.out ?? defaultKeyDir()));
  process.stdout.write(`private key: ${key}\npublic key:  ${pub}\nkey id:      ${keyId(loadPublicKey(readFileSync(pub, 'utf8'), pub))}\n`);
  return EXIT.ok;
}

export const VERIFY_USAGE = `Usage: pci-harness verify DIR [--key PUBLIC-KEY]...

Checks an evidence package: the signature of ${ATTESTATION_FILE} (DSSE,
in-toto Statement v1) with the public key, then every file of DIR against the
signed list — a changed, added or removed file is named. A merged package
(\`pci-harness merge\`) also has every shard's own envelope under
${SHARDS_DIR}/<name>/ checked against that shard's files.
  --key   public key (.pub from \`pci-harness keygen\`); repeat it when the shards and
          the merge were signed by different keys (each envelope is checked with the key
          its key id names); default $${VERIFY_KEY_ENV}, else ${'$'}PCI_HARNESS_CACHE/signing/${KEY_NAME}.pub
The same envelope verifies with cosign:
  cosign verify-blob-attestation --insecure-ignore-tlog --key KEY.pub --type ${PREDICATE_TYPE} --signature DIR/${ATTESTATION_FILE} DIR/<file>
Exit: 0 signature valid and every file matches; 1 a file was changed, added or
removed, or the attestation was altered or is missing; 2 no key, or the wrong key.`;

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { key: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h', default: false } }, allowPositionals: true, strict: true });
  if (values.help) {
    process.stdout.write(`${VERIFY_USAGE}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new InputError('verify takes one evidence directory', { hint: 'pci-harness verify reports/<time> --key pci-evidence.pub' });
  const dir = resolve(positionals[0] as string);
  if (!existsSync(dir)) throw new InputError(`${dir} does not exist`);
  const keyPaths = (values.key?.length ? values.key : [process.env[VERIFY_KEY_ENV] ?? join(defaultKeyDir(), `${KEY_NAME}.pub`)]).map((k) => resolve(k));
  const keys = keyPaths.map((keyPath): KeyObject => {
    if (!existsSync(keyPath)) throw new InputError(`no public key at ${keyPath}`, { hint: `pass the signer's public key: --key FILE.pub (or $${VERIFY_KEY_ENV})` });
    try {
      return loadPublicKey(readFileSync(keyPath, 'utf8'), keyPath);
    } catch (e) {
      throw new InputError((e as Error).message, { hint: `--key takes the ${KEY_NAME}.pub that \`pci-harness keygen\` wrote` });
    }
  });
  const { top, shards } = verifyMerged(dir, keys);
  const checked: Array<{ where: string; v: PackageVerification }> = [{ where: dir, v: top }, ...shards.map((s) => ({ where: `${dir}: shard ${SHARDS_DIR}/${s.name}`, v: s.verification }))];
  let code: number = EXIT.ok;
  for (const { where, v } of checked) {
    const lines = [...v.changed.map((f) => `CHANGED  ${f}`), ...v.added.map((f) => `ADDED    ${f}`), ...v.removed.map((f) => `REMOVED  ${f}`)];
    if (v.signature === 'wrong-key') {
      process.stderr.write(`pci-harness verify: ${where}: wrong key: ${v.signatureProblem}\n  hint: pass the public key of the signer with --key\n`);
      if (code === EXIT.ok) code = EXIT.badInput;
    } else if (v.signature !== 'valid') {
      process.stderr.write(`pci-harness verify: ${where}: ${v.signatureProblem}\n${lines.map((l) => `  ${l}\n`).join('')}`);
      code = EXIT.controlFailed;
    } else if (lines.length) {
      process.stderr.write(`pci-harness verify: ${where}: the package differs from what was signed:\n${lines.map((l) => `  ${l}\n`).join('')}`);
      code = EXIT.controlFailed;
    }
  }
  if (code !== EXIT.ok) return code;
  const shardNote = shards.length ? `; ${shards.length} shard envelope(s) valid, each shard's files match (${shards.map((s) => s.name).join(', ')})` : '';
  process.stdout.write(`OK ${dir}: signature valid (${[...new Set(keys.map(keyId))].join(', ')}), ${top.files} files match the signed attestation${shardNote}\n`);
  return EXIT.ok;
}
