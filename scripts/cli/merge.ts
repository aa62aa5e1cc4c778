import type { KeyObject } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createPublicKey } from 'node:crypto';
import { keyId, loadPublicKey, verifyPackage } from '../../harness/evidence/attest.ts';
import { writeEvidence } from '../../harness/evidence/bundle.ts';
import { finishPackage, PACKAGE_FILES } from '../../harness/evidence/package.ts';
import { keyFor, mergeReports, SHARDS_DIR, signersOf, type ShardInput } from '../../harness/evidence/merge.ts';
import { readPackage } from '../../harness/evidence/read-package.ts';
import { InputError } from '../../harness/errors.ts';
import { EXIT } from './exit-codes.ts';
import { signingKeyFor } from './keys.ts';
import { DEFAULT_MANIFESTS, REPO_ROOT, VERSION } from './paths.ts';
import { FILES, renderSummaryMd, writeLiveFiles } from './run.ts';
import { shardName } from './shard.ts';

export const MERGE_USAGE = `Usage: pci-harness merge DIR... --out DIR [--key FILE] [--shard-key PUB]...

One evidence package and one report from the packages of \`run --shard i/n\`
(one per CI job, per CNI). Every shard is verified first (its signature and
every file); then:
  shards/<name>/        each shard package, whole, with its own signed attestation
  live.*, summary.md, report.html, assessment-results.json   every shard's results, concatenated
  check.*, images.json  the offline proof (the same in every shard: same commit and manifests)
  SHA256SUMS, attestation.dsse.json   signed anew over every file, shards/ included
\`pci-harness verify OUT\` checks the merged signature and every shard's envelope.
  --out DIR       the merged package (must not exist or be empty)
  --key FILE      private key to sign it (default as for \`run\`)
  --shard-key PUB public key the shards were signed with (repeatable; default the
                  public half of --key)
Exit: 0 every control holds in every shard; 1 a control failed in a shard, or a
shard does not verify (named); 2 bad input (wrong key, shards of different runs,
a shard given twice); 3 nothing failed but a shard is inconclusive or missing.`;

function loadPub(path: string): KeyObject {
  try {
    return loadPublicKey(readFileSync(path, 'utf8'), path);
  } catch (e) {
    throw new InputError((e as Error).message, { hint: '--shard-key takes the .pub file of the key the shard jobs signed with' });
  }
}

export async function mergeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, key: { type: 'string' }, 'shard-key': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${MERGE_USAGE}\n`);
    return EXIT.ok;
  }
  if (!positionals.length) throw new InputError('merge takes the shard packages to join', { hint: 'pci-harness merge evidence/shard-1 evidence/shard-2 --out evidence/merged' });
  if (!values.out) throw new InputError('merge needs --out DIR for the merged package');
  const t0 = Date.now();
  const out = resolve(values.out);
  if (existsSync(out) && readdirSync(out).length) throw new InputError(`--out ${out} exists and is not empty`, { hint: 'merge into a new directory: a merged package holds nothing but its shards' });
  const dirs = positionals.map((p) => resolve(p));
  for (const d of dirs) {
    if (!existsSync(d)) throw new InputError(`${d} does not exist`);
    if (!relative(d, out).startsWith('..') && relative(d, out) !== '') throw new InputError(`--out ${out} is inside the shard package ${d}`);
  }
  const signing = signingKeyFor(values.key, out);
  const shardKeys = values['shard-key']?.length ? values['shard-key'].map((k) => loadPub(resolve(k))) : [createPublicKey(signing.key)];

  // Never merge what does not verify: the merged signature would launder it.
  const shards: ShardInput[] = [];
  for (const dir of dirs) {
    const v = verifyPackage(dir, keyFor(dir, shardKeys));
    const diff = [...v.changed.map((f) => `CHANGED ${f}`), ...v.added.map((f) => `ADDED ${f}`), ...v.removed.map((f) => `REMOVED ${f}`)];
    if (v.signature === 'wrong-key') throw new InputError(`${dir}: ${v.signatureProblem}`, { hint: 'pass the shard jobs\' public key with --shard-key' });
    if (v.signature !== 'valid' || diff.length) {
      process.stderr.write(`pci-harness merge: ${dir} does not verify: ${v.signatureProblem ?? 'the package differs from what was signed'}\n${diff.map((l) => `  ${l}\n`).join('')}`);
      return EXIT.controlFailed;
    }
    const report = readPackage(dir);
    const shard = report.context.shard;
    shards.push({ dir, name: shardName(shard ?? { index: 1, count: 1 }, report.context.versions.cni), report, signedBy: signersOf(dir) });
  }
  shards.sort((a, b) => (a.report.context.versions.cni ?? '').localeCompare(b.report.context.versions.cni ?? '') || (a.report.context.shard?.index ?? 1) - (b.report.context.shard?.index ?? 1));

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const merged = mergeReports(shards, { runId: stamp, finishedAt: new Date().toISOString(), seconds: (Date.now() - t0) / 1000 });
  mkdirSync(join(out, SHARDS_DIR), { recursive: true });
  for (const s of shards) cpSync(s.dir, join(out, SHARDS_DIR, s.name), { recursive: true });
  const first = shards[0] as ShardInput;
  for (const f of [FILES.checkText, FILES.checkJson, FILES.checkJunit, FILES.checkSarif, FILES.images]) if (existsSync(join(first.dir, f))) copyFileSync(join(first.dir, f), join(out, f));
  const meta = { manifests: merged.context.manifests, manifestsDir: join(REPO_ROOT, DEFAULT_MANIFESTS), version: VERSION };
  const liveSummary = merged.live ? writeLiveFiles(out, merged.live, merged.titles, meta, merged.vitest) : undefined;
  if (merged.vitest) writeEvidence(join(out, FILES.vitestOutcome), `${JSON.stringify(merged.vitest, null, 2)}\n`);
  const checkText = existsSync(join(first.dir, FILES.checkText)) ? readFileSync(join(first.dir, FILES.checkText), 'utf8').trimEnd() : 'no check.txt in the shards';
  writeEvidence(
    join(out, FILES.summary),
    renderSummaryMd({
      stamp,
      seconds: Math.round((Date.parse(merged.context.finishedAt) - Date.parse(merged.context.startedAt)) / 1000) || 0,
      commit: merged.context.commit,
      images: merged.context.imageSource,
      manifests: merged.context.manifests,
      hasImageRecord: existsSync(join(out, FILES.images)),
      checkText,
      ...(liveSummary ? { live: { summary: liveSummary, outcome: merged.vitest } } : {}),
      liveNotRun: merged.liveNotRun ?? 'not run',
      verdict: merged.context.verdict as { code: 0 | 1 | 3; reasons: string[] },
      shard: `merged from ${shards.map((s) => `${SHARDS_DIR}/${s.name}/`).join(', ')} (each keeps its own signed attestation)`,
    }),
  );
  const { signedBy } = finishPackage(out, merged, { signingKey: signing.key });
  process.stderr.write(`merged ${shards.length} shard package(s) into ${out}, signed with ${signedBy ?? keyId(signing.key)} (${signing.path})\n`);
  for (const r of merged.context.verdict.reasons) process.stderr.write(`  ${r}\n`);
  process.stderr.write(`open ${join(out, PACKAGE_FILES.html)}; check: pci-harness verify ${out} --key ${signing.path.replace(/\.key$/, '.pub')}\n`);
  return merged.context.verdict.code;
}
