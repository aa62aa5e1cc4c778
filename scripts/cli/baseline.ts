import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPrivateKey, loadPublicKey } from '../../harness/evidence/attest.ts';
import { baselineRecord, checkBaseline, diffRecords, renderDiff, signBaseline, type Baseline, type BaselineRecord } from '../../harness/evidence/baseline.ts';
import { sha256File } from '../../harness/evidence/digest.ts';
import { readPackage } from '../../harness/evidence/read-package.ts';
import { InputError } from '../../harness/errors.ts';
import { EXIT } from './exit-codes.ts';
import { SIGNING_KEY_ENV, VERIFY_KEY_ENV } from './keys.ts';

export const BASELINE_USAGE = `Usage:
  pci-harness baseline sign DIR --key KEY --out baseline.json [--signer NAME] [--expires 90d]
  pci-harness baseline sign baseline.json --key KEY [--signer NAME]      countersign (adds a signature)
  pci-harness baseline diff BASELINE RUN_DIR|BASELINE2 --key PUB [--key PUB2] [--format text|json|markdown]

sign: records what the run in DIR (an evidence package) proved — every
requirement verdict, every matrix cell, every RBAC answer and admission
verdict, every image ID — with the signer, the time and an expiry, signed with
the private KEY (default $${SIGNING_KEY_ENV}). Given a baseline file instead,
adds the signature of KEY to it (CI signs, the release manager countersigns).
diff: what got weaker, stronger or changed from BASELINE to the run (or a
second baseline). BASELINE must carry a signature that verifies with one of the
--key public keys (default $${VERIFY_KEY_ENV}) and must not have expired.
Exit: 0 nothing got weaker; 1 something got weaker; 2 bad input: unsigned,
expired or wrongly signed baseline, missing key, a package that fails its SHA256SUMS.`;

function parseExpiry(s: string, now: Date): string {
  const m = /^(\d+)d$/.exec(s);
  if (m) return new Date(now.getTime() + Number(m[1]) * 86_400_000).toISOString();
  if (!Number.isNaN(Date.parse(s))) return new Date(s).toISOString();
  throw new InputError(`--expires "${s}" is neither a number of days (90d) nor a date`);
}

const readKeyFile = (path: string, what: string) => {
  if (!existsSync(path)) throw new InputError(`no ${what} at ${path}`, { hint: 'make one with `pci-harness keygen`' });
  return readFileSync(path, 'utf8');
};

function readBaseline(path: string): Baseline {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Baseline;
  } catch (e) {
    throw new InputError(`${path} is not a baseline (JSON): ${(e as Error).message}`);
  }
}

/** A package whose files no longer match its SHA256SUMS is not something to sign or compare. */
function packageRecord(dir: string): BaselineRecord {
  const sums = join(dir, 'SHA256SUMS');
  if (!existsSync(sums)) throw new InputError(`${dir} has no SHA256SUMS: not an evidence package of pci-harness run`);
  for (const line of readFileSync(sums, 'utf8').split('\n').filter(Boolean)) {
    const [hash, file] = [line.slice(0, 64), line.slice(66)];
    if (!existsSync(join(dir, file)) || sha256File(join(dir, file)) !== hash) throw new InputError(`${dir}: ${file} does not match SHA256SUMS`, { hint: 'the package was edited after the run; check it with `pci-harness verify`' });
  }
  try {
    return baselineRecord(readPackage(dir));
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

export async function baselineCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(`${BASELINE_USAGE}\n`);
    return sub ? EXIT.ok : EXIT.badInput;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: { key: { type: 'string', multiple: true }, out: { type: 'string' }, signer: { type: 'string' }, expires: { type: 'string', default: '90d' }, format: { type: 'string', default: 'text' }, help: { type: 'boolean', short: 'h', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${BASELINE_USAGE}\n`);
    return EXIT.ok;
  }
  const now = new Date();
  if (sub === 'sign') {
    if (positionals.length !== 1) throw new InputError('baseline sign takes one evidence directory or one baseline file');
    const target = resolve(positionals[0] as string);
    if (!existsSync(target)) throw new InputError(`${target} does not exist`);
    const keyPath = resolve(values.key?.[0] ?? process.env[SIGNING_KEY_ENV] ?? '');
    if (!values.key?.[0] && !process.env[SIGNING_KEY_ENV]) throw new InputError('baseline sign needs a private key', { hint: `--key FILE.key (or $${SIGNING_KEY_ENV}); make one with \`pci-harness keygen\`` });
    const key = (() => {
      try {
        return loadPrivateKey(readKeyFile(keyPath, 'private key'), keyPath);
      } catch (e) {
        throw e instanceof InputError ? e : new InputError((e as Error).message);
      }
    })();
    const signer = values.signer ?? process.env.USER ?? 'unknown';
    if (statSync(target).isDirectory()) {
      if (!values.out) throw new InputError('baseline sign DIR needs --out baseline.json');
      const b = signBaseline({ record: packageRecord(target), expiresAt: parseExpiry(values.expires, now) }, key, signer, now);
      writeFileSync(resolve(values.out), `${JSON.stringify(b, null, 2)}\n`);
      process.stdout.write(`baseline of run ${b.record.run.runId} signed by ${signer}, expires ${b.expiresAt}: ${resolve(values.out)}\n`);
      return EXIT.ok;
    }
    const existing = readBaseline(target);
    // The countersignature covers the same record and expiry; an edited record leaves the earlier signatures failing (checkBaseline).
    if (!existing.signatures?.length) throw new InputError(`${target} is unsigned: nothing to countersign`, { hint: 'sign a run directory first: pci-harness baseline sign DIR --out baseline.json' });
    const b = signBaseline(existing, key, signer, now);
    writeFileSync(values.out ? resolve(values.out) : target, `${JSON.stringify(b, null, 2)}\n`);
    process.stdout.write(`countersigned by ${signer}: ${b.signatures.length} signatures (${b.signatures.map((s) => s.signer).join(', ')})\n`);
    return EXIT.ok;
  }
  if (sub === 'diff') {
    if (positionals.length !== 2) throw new InputError('baseline diff takes a baseline and a run directory (or a second baseline)');
    if (!['text', 'json', 'markdown'].includes(values.format)) throw new InputError(`unknown --format "${values.format}"`, { hint: 'text, json or markdown' });
    const keyPaths = values.key?.length ? values.key : process.env[VERIFY_KEY_ENV] ? [process.env[VERIFY_KEY_ENV] as string] : [];
    if (!keyPaths.length) throw new InputError('baseline diff needs the public key(s) the baseline was signed with', { hint: `--key FILE.pub (repeatable), or $${VERIFY_KEY_ENV}` });
    const keys = keyPaths.map((p) => {
      try {
        return loadPublicKey(readKeyFile(resolve(p), 'public key'), p);
      } catch (e) {
        throw e instanceof InputError ? e : new InputError((e as Error).message);
      }
    });
    const accepted = (path: string): BaselineRecord => {
      const b = readBaseline(path);
      const c = checkBaseline(b, keys, now);
      if (c.problems.length) throw new InputError(`${path}: ${c.problems.join('; ')}`);
      return b.record;
    };
    const a = accepted(resolve(positionals[0] as string));
    const other = resolve(positionals[1] as string);
    if (!existsSync(other)) throw new InputError(`${other} does not exist`);
    const b = statSync(other).isDirectory() ? packageRecord(other) : accepted(other);
    const changes = diffRecords(a, b);
    process.stdout.write(`${renderDiff(changes, a, b, values.format as 'text' | 'json' | 'markdown')}\n`);
    return changes.some((c) => c.direction === 'weaker') ? EXIT.controlFailed : EXIT.ok;
  }
  throw new InputError(`unknown baseline subcommand "${sub}"`, { hint: 'sign or diff' });
}
