import type { Mutant } from '../mutants.ts';

/** More network weakenings (see ../mutants.ts for the rules every mutant follows). */
export const MUTANTS_NETWORK: Mutant[] = [];
