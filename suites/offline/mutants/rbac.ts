import type { Mutant } from '../mutants.ts';

/** More rbac weakenings (see ../mutants.ts for the rules every mutant follows). */
export const MUTANTS_RBAC: Mutant[] = [];
