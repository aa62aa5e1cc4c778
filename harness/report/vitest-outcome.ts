import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * What a vitest run did, in a form `pci-harness run` can judge: every test
 * with its state and error messages, AND the errors vitest's JSON reporter
 * drops — a `beforeAll` that threw (an `EnforcementError` from
 * `requireEnforcement` in a hook leaves its tests "skipped" with no message
 * there), a module that failed to import, unhandled errors.
 *
 * Used as a vitest reporter: `--reporter=<this file>`; writes
 * `$PCI_VITEST_OUTCOME` (JSON) at the end of the run.
 */
export interface VitestOutcome {
  reason: string;
  tests: Array<{ file: string; name: string; state: 'passed' | 'failed' | 'skipped' | 'pending'; ms: number; errors: string[] }>;
  /** Errors of a module or suite outside any test: import failures, beforeAll/afterAll hooks. */
  suiteErrors: Array<{ file: string; name: string; errors: string[] }>;
  unhandledErrors: string[];
}

interface ErrorLike {
  name?: string;
  message?: string;
}

const text = (e: ErrorLike): string => {
  const msg = e.message ?? String(e);
  return e.name && !msg.startsWith(e.name) ? `${e.name}: ${msg}` : msg;
};

export function outcomeOf(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<ErrorLike>, reason: string): VitestOutcome {
  const out: VitestOutcome = { reason, tests: [], suiteErrors: [], unhandledErrors: unhandled.map(text) };
  for (const m of modules) {
    // Relative to the project root (the repository for pci-harness run).
    const file = relative(m.project.config.root, m.moduleId);
    const modErrors = m.errors().map(text);
    if (modErrors.length) out.suiteErrors.push({ file, name: file, errors: modErrors });
    for (const s of m.children.allSuites()) {
      const errs = s.errors().map(text);
      if (errs.length) out.suiteErrors.push({ file, name: s.fullName, errors: errs });
    }
    for (const t of m.children.allTests()) {
      const r = t.result();
      out.tests.push({
        file,
        name: t.fullName,
        state: r.state,
        ms: Math.round(t.diagnostic()?.duration ?? 0),
        errors: 'errors' in r && r.errors ? r.errors.map(text) : [],
      });
    }
  }
  return out;
}

export default class VitestOutcomeReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<ErrorLike>, reason: string): void {
    const path = process.env.PCI_VITEST_OUTCOME;
    if (!path) return;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify(outcomeOf(modules, unhandled, reason), null, 2)}\n`);
  }
}
