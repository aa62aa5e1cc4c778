import type { Mutant } from '../mutants.ts';

/** More pod-security weakenings (see ../mutants.ts for the rules every mutant follows). */
export const MUTANTS_POD_SECURITY: Mutant[] = [];
