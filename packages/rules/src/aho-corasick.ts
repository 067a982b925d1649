/**
 * A small Aho–Corasick automaton over UTF-16 code units.
 *
 * Every taxonomy term (hundreds, in several scripts) is compiled into one automaton, so classifying an
 * item is a single pass over its text instead of a loop over hundreds of regular expressions.
 * Transitions of ASCII code units are kept in a dense table (the bulk of English text); other code
 * units use a per-state Map. Outputs of suffix states are merged at build time, so a search reports
 * every occurrence of every pattern, overlapping ones included.
 */

export interface AcMatch {
  /** Index of the pattern in the list given to the constructor. */
  readonly pattern: number;
  readonly start: number;
  readonly end: number;
}

const ASCII = 128;

export class AhoCorasick {
  private readonly ascii: Int32Array; // state * 128 + code → next state (full DFA for ASCII)
  private readonly wide: Array<Map<number, number> | undefined>; // goto edges for code units ≥ 128
  private readonly fail: Int32Array;
  private readonly out: Array<Int32Array | undefined>;
  private readonly lengths: Int32Array;

  /** Builds the automaton. Empty patterns are ignored (they would match everywhere). */
  constructor(patterns: readonly string[]) {
    this.lengths = Int32Array.from(patterns, (p) => p.length);
    // 1. The trie.
    const asciiEdges: number[][] = [[]];
    const wideEdges: Array<Map<number, number> | undefined> = [undefined];
    const own: number[][] = [[]];
    patterns.forEach((p, index) => {
      if (p.length === 0) return;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let next: number | undefined;
        if (c < ASCII) next = asciiEdges[s]![c];
        else next = wideEdges[s]?.get(c);
        if (next === undefined) {
          next = own.length;
          own.push([]);
          asciiEdges.push([]);
          wideEdges.push(undefined);
          if (c < ASCII) asciiEdges[s]![c] = next;
          else {
            let m = wideEdges[s];
            if (m === undefined) {
              m = new Map();
              wideEdges[s] = m;
            }
            m.set(c, next);
          }
        }
        s = next;
      }
      own[s]!.push(index);
    });

    // 2. Failure links breadth-first; the ASCII table becomes a full DFA on the way.
    const n = own.length;
    const fail = new Int32Array(n);
    const ascii = new Int32Array(n * ASCII);
    const out: Array<Int32Array | undefined> = new Array(n);
    const queue: number[] = [];
    for (let c = 0; c < ASCII; c++) {
      const t = asciiEdges[0]![c];
      if (t !== undefined) {
        ascii[c] = t;
        fail[t] = 0;
        queue.push(t);
      }
    }
    for (const t of wideEdges[0]?.values() ?? []) {
      fail[t] = 0;
      queue.push(t);
    }
    out[0] = own[0]!.length > 0 ? Int32Array.from(own[0]!) : undefined;
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      const f = fail[s]!;
      const merged = own[s]!.concat(out[f] ? Array.from(out[f]!) : []);
      out[s] = merged.length > 0 ? Int32Array.from(merged) : undefined;
      for (let c = 0; c < ASCII; c++) {
        const t = asciiEdges[s]![c];
        if (t !== undefined) {
          fail[t] = ascii[f * ASCII + c]!;
          ascii[s * ASCII + c] = t;
          queue.push(t);
        } else {
          ascii[s * ASCII + c] = ascii[f * ASCII + c]!;
        }
      }
      const edges = wideEdges[s];
      if (edges !== undefined) {
        for (const [c, t] of edges) {
          fail[t] = this.stepWide(wideEdges, fail, f, c);
          queue.push(t);
        }
      }
    }
    this.ascii = ascii;
    this.wide = wideEdges;
    this.fail = fail;
    this.out = out;
  }

  /** Follows failure links from `s` until a state with an edge for wide code unit `c` (or the root). */
  private stepWide(wide: Array<Map<number, number> | undefined>, fail: Int32Array, s: number, c: number): number {
    let state = s;
    for (;;) {
      const t = wide[state]?.get(c);
      if (t !== undefined) return t;
      if (state === 0) return 0;
      state = fail[state]!;
    }
  }

  /** Calls `onMatch(pattern, start, end)` for every occurrence, in order of `end`. */
  scan(text: string, onMatch: (pattern: number, start: number, end: number) => void): void {
    const { ascii, wide, fail, out, lengths } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      s = c < ASCII ? ascii[s * ASCII + c]! : this.stepWide(wide, fail, s, c);
      const o = out[s];
      if (o !== undefined) {
        for (let k = 0; k < o.length; k++) {
          const p = o[k]!;
          onMatch(p, i + 1 - lengths[p]!, i + 1);
        }
      }
    }
  }

  /** Every occurrence of every pattern. */
  findAll(text: string): AcMatch[] {
    const found: AcMatch[] = [];
    this.scan(text, (pattern, start, end) => found.push({ pattern, start, end }));
    return found;
  }

  /** Number of states, for diagnostics. */
  get size(): number {
    return this.fail.length;
  }
}
