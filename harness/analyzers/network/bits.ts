/** A fixed-size bitset: the matrix keeps one per (destination, port) and per egress-policy signature. */
export class Bits {
  readonly words: Uint32Array;
  constructor(size: number, fill = false) {
    this.words = new Uint32Array(Math.ceil(size / 32));
    if (fill) {
      this.words.fill(0xffffffff);
    }
  }
  set(i: number): void {
    this.words[i >>> 5] = (this.words[i >>> 5] as number) | (1 << (i & 31));
  }
  has(i: number): boolean {
    return ((this.words[i >>> 5] as number) & (1 << (i & 31))) !== 0;
  }
  orWith(o: Bits): void {
    for (let k = 0; k < this.words.length; k++) this.words[k] = (this.words[k] as number) | (o.words[k] as number);
  }
  /** Calls fn with each set bit below size, in order (no generator: the matrix visits millions). */
  forEach(size: number, fn: (i: number) => void): void {
    for (let k = 0; k < this.words.length; k++) {
      let w = this.words[k] as number;
      while (w !== 0) {
        const i = (k << 5) + (31 - Math.clz32(w & -w));
        if (i >= size) return;
        fn(i);
        w &= w - 1;
      }
    }
  }
  /** Indices of set bits below size. */
  *each(size: number): Generator<number> {
    for (let k = 0; k < this.words.length; k++) {
      let w = this.words[k] as number;
      while (w !== 0) {
        const b = 31 - Math.clz32(w & -w);
        const i = (k << 5) + b;
        if (i >= size) return;
        yield i;
        w &= w - 1;
      }
    }
  }
}
