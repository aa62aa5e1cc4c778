import type { Mutant } from '../mutants.ts';

/** More kyverno weakenings (see ../mutants.ts for the rules every mutant follows). */
export const MUTANTS_KYVERNO: Mutant[] = [];
