import type { Mutant } from '../mutants.ts';

/** More audit weakenings (see ../mutants.ts for the rules every mutant follows). */
export const MUTANTS_AUDIT: Mutant[] = [];
