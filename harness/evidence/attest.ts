import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileDigests } from './digest.ts';

/**
 * Tamper evidence for an evidence package: an in-toto Statement v1 whose
 * subjects are every file of the package (name + sha256) and whose predicate
 * is the run's result summary, in a DSSE envelope signed with a local ECDSA
 * P-256 key. The envelope is what `cosign verify-blob-attestation --key PUB
 * --signature attestation.dsse.json --type <PREDICATE_TYPE> <file>` checks.
 * Keys: PKCS#8 (private) and SPKI (public) PEM; the private key never goes
 * into the package.
 */
export const ATTESTATION_FILE = 'attestation.dsse.json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://pci-harness.dev/attestation/evidence-package/v1';
export const PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface Subject {
  name: string;
  digest: { sha256: string };
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** DSSE pre-authentication encoding: `DSSEv1 <len(type)> <type> <len(body)> <body>`. */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

/** Key id: sha256 of the public key's DER (SubjectPublicKeyInfo), so a verifier can tell a wrong key from a tampered envelope. */
export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return `sha256:${createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

export function generateSigningKey(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** A PEM private key, ECDSA P-256; throws a sentence a person can act on otherwise. */
export function loadPrivateKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error(`${where} is not a PEM private key (expected PKCS#8 "BEGIN PRIVATE KEY", as \`pci-harness keygen\` writes)`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error(`${where} is not an ECDSA P-256 key (${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''})`);
  return key;
}

/** A PEM public key (or a private key, whose public half is used). */
export function loadPublicKey(pem: string, where: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch {
    throw new Error(`${where} is not a PEM public key (expected "BEGIN PUBLIC KEY", the .pub file \`pci-harness keygen\` writes)`);
  }
}

export function statementFor(dir: string, predicate: Record<string, unknown>): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: fileDigests(dir, [ATTESTATION_FILE]).map((f) => ({ name: f.path, digest: { sha256: f.sha256 } })),
    predicateType: PREDICATE_TYPE,
    predicate,
  };
}

export function signStatement(statement: Statement, key: KeyObject): Envelope {
  const body = Buffer.from(JSON.stringify(statement), 'utf8');
  // ECDSA over SHA-256 of the PAE, DER-encoded signature: what cosign and sigstore verifiers expect.
  const sig = sign('sha256', pae(PAYLOAD_TYPE, body), key);
  return { payloadType: PAYLOAD_TYPE, payload: body.toString('base64'), signatures: [{ keyid: keyId(key), sig: sig.toString('base64') }] };
}

export function verifyEnvelope(env: Envelope, key: KeyObject): boolean {
  const body = Buffer.from(env.payload, 'base64');
  return env.signatures.some((s) => {
    try {
      return verify('sha256', pae(env.payloadType, body), key, Buffer.from(s.sig, 'base64'));
    } catch {
      return false;
    }
  });
}

export type SignatureState = 'valid' | 'wrong-key' | 'invalid' | 'missing';

export interface PackageVerification {
  signature: SignatureState;
  /** What went wrong with the signature, in one sentence (when not valid). */
  signatureProblem?: string;
  changed: string[];
  added: string[];
  removed: string[];
  /** Files checked against the statement. */
  files: number;
  predicate?: Record<string, unknown>;
}

/**
 * Check a package against its attestation: the signature (with `key`), then
 * every file against the signed subjects. The file comparison is done even
 * when the signature fails, so the report names what differs; it only
 * counts when the signature is valid.
 */
export function verifyPackage(dir: string, key: KeyObject): PackageVerification {
  const path = join(dir, ATTESTATION_FILE);
  const files = fileDigests(dir, [ATTESTATION_FILE]);
  if (!existsSync(path)) return { signature: 'missing', signatureProblem: `${ATTESTATION_FILE} is missing: the package is not signed, or it was removed`, changed: [], added: files.map((f) => f.path), removed: [], files: files.length };
  let env: Envelope;
  let statement: Statement;
  try {
    env = JSON.parse(readFileSync(path, 'utf8')) as Envelope;
    statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Statement;
    if (env.payloadType !== PAYLOAD_TYPE || statement._type !== STATEMENT_TYPE || !Array.isArray(statement.subject)) throw new Error('not an in-toto statement');
  } catch (e) {
    return { signature: 'invalid', signatureProblem: `${ATTESTATION_FILE} is not a DSSE envelope with an in-toto Statement v1 (${(e as Error).message})`, changed: [], added: [], removed: [], files: files.length };
  }
  const expected = new Map(statement.subject.map((s) => [s.name, s.digest.sha256]));
  const actual = new Map(files.map((f) => [f.path, f.sha256]));
  const changed = [...expected].filter(([n, h]) => actual.has(n) && actual.get(n) !== h).map(([n]) => n);
  const removed = [...expected.keys()].filter((n) => !actual.has(n));
  const added = [...actual.keys()].filter((n) => !expected.has(n));
  const ok = verifyEnvelope(env, key);
  const signedBy = env.signatures.map((s) => s.keyid).filter(Boolean);
  const mine = keyId(key);
  const signature: SignatureState = ok ? 'valid' : signedBy.length && !signedBy.includes(mine) ? 'wrong-key' : 'invalid';
  const signatureProblem =
    signature === 'wrong-key'
      ? `the package was signed by key ${signedBy.join(', ')}, not by the given key (${mine})`
      : signature === 'invalid'
        ? `the signature does not verify with the given key (${mine}): ${ATTESTATION_FILE} was altered`
        : undefined;
  return { signature, ...(signatureProblem ? { signatureProblem } : {}), changed, added, removed, files: files.length, predicate: statement.predicate };
}
