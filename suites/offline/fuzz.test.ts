import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultAnalyzers } from '../../harness/check/analyzers.ts';
import { runAnalyzers } from '../../harness/check/run.ts';
import { InputError } from '../../harness/errors.ts';
import { setFromTexts } from '../../harness/manifests/load.ts';
import { SHIPPED } from './cli.ts';
import { rng } from '../../harness/testing/rng.ts';


function shippedFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(n)) out[relative(SHIPPED, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(SHIPPED);
  return out;
}

const JUNK = ['', '~', 'null', '[]', '{}', '-1', '3.5', 'true', '"*"', '0.0.0.0/0', '{a: [b, {c: d}]}', '!!binary AAAA', '&a x', '*a', '"\\u0000"'];

/** Ways a person or a bad merge corrupts YAML: each takes text and returns text. */
const CORRUPTIONS: Array<{ name: string; apply: (text: string, r: () => number) => string }> = [
  { name: 'truncate', apply: (t, r) => t.slice(0, Math.floor(r() * t.length)) },
  {
    name: 'delete a line',
    apply: (t, r) => {
      const l = t.split('\n');
      l.splice(Math.floor(r() * l.length), 1);
      return l.join('\n');
    },
  },
  {
    name: 'replace a value with junk',
    apply: (t, r) => {
      const l = t.split('\n');
      const i = Math.floor(r() * l.length);
      const m = /^(\s*-?\s*[\w.\-/"]+:)\s*.*$/.exec(l[i] ?? '');
      if (m) l[i] = `${m[1]} ${JUNK[Math.floor(r() * JUNK.length)]}`;
      return l.join('\n');
    },
  },
  {
    name: 'shift indentation',
    apply: (t, r) => {
      const l = t.split('\n');
      const i = Math.floor(r() * l.length);
      l[i] = r() < 0.5 ? `  ${l[i]}` : (l[i] ?? '').replace(/^ {1,2}/, '');
      return l.join('\n');
    },
  },
  {
    name: 'flip a character',
    apply: (t, r) => {
      const i = Math.floor(r() * t.length);
      return t.slice(0, i) + String.fromCharCode(32 + Math.floor(r() * 95)) + t.slice(i + 1);
    },
  },
  {
    name: 'duplicate a line',
    apply: (t, r) => {
      const l = t.split('\n');
      const i = Math.floor(r() * l.length);
      l.splice(i, 0, l[i] ?? '');
      return l.join('\n');
    },
  },
  {
    name: 'blank a mapping value',
    apply: (t, r) => {
      const l = t.split('\n');
      const i = Math.floor(r() * l.length);
      l[i] = (l[i] ?? '').replace(/:\s.*$/, ':');
      return l.join('\n');
    },
  },
];

const ITERATIONS = Number(process.env.PCI_FUZZ_ITERATIONS ?? 300);

describe('randomized corruption: every input ends in a verdict or an InputError, never a crash', () => {
  it(`survives ${ITERATIONS} corrupted manifest sets`, async () => {
    const files = shippedFiles();
    const names = Object.keys(files).sort();
    const outcomes = { verdict: 0, inputError: 0 };
    const crashes: string[] = [];
    for (let seed = 1; seed <= ITERATIONS; seed++) {
      const r = rng(seed);
      const file = names[Math.floor(r() * names.length)]!;
      const corruption = CORRUPTIONS[Math.floor(r() * CORRUPTIONS.length)]!;
      const texts = { ...files, [file]: corruption.apply(files[file]!, r) };
      const label = `seed ${seed}: ${corruption.name} in ${file}`;
      try {
        const set = setFromTexts(texts);
        const { results } = await runAnalyzers(set, defaultAnalyzers(), { skipKyverno: true });
        // runAnalyzers turns an analyzer exception into an `<area>.internal` failure: that is a crash too.
        const crashed = results.filter((x) => x.check.endsWith('.internal'));
        if (crashed.length) crashes.push(`${label}: ${crashed.map((x) => x.message).join('; ')}`);
        else outcomes.verdict++;
      } catch (e) {
        if (e instanceof InputError && /\S/.test(e.describe())) outcomes.inputError++;
        else crashes.push(`${label}: ${(e as Error).stack}`);
      }
    }
    console.log(`fuzz: ${ITERATIONS} corrupted sets → ${outcomes.verdict} verdicts, ${outcomes.inputError} input errors, ${crashes.length} crashes`);
    expect(crashes).toEqual([]);
    expect(outcomes.verdict + outcomes.inputError).toBe(ITERATIONS);
    // A robustness test, not a timed one: 300 sets take 35–50 s on 2 loaded cores.
  }, 300_000);
});
