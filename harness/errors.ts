/**
 * Bad input or usage: the user can fix it. The CLI prints `file:line: reason`
 * plus the hint, never a stack trace, and exits 2.
 */
export class InputError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly hint: string | undefined;

  constructor(reason: string, where: { file?: string; line?: number; hint?: string } = {}) {
    super(reason);
    this.name = 'InputError';
    this.file = where.file;
    this.line = where.line;
    this.hint = where.hint;
  }

  /** One line a person can act on: `file:line: reason (hint)`. */
  describe(): string {
    const at = this.file ? `${this.file}${this.line ? `:${this.line}` : ''}: ` : '';
    return `${at}${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}
