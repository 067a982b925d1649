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
/** Empty slot of the wide-edge hash table. */
const NO_KEY = -1;

export class AhoCorasick {
  /** ASCII code unit → column of the dense table (0 = a character no pattern contains). */
  private readonly classes: Uint8Array;
  private readonly width: number;
  /**
   * state * width + class → next state: a full DFA for ASCII, states numbered breadth-first. 16-bit
   * cells while the states fit (they do for the bundled taxonomy): half the bytes, so the hot rows
   * stay in cache as the taxonomy grows. A cell also carries {@link hit} when the state has outputs,
   * so the scan needs no second lookup per character to know that nothing ends there.
   */
  private readonly ascii: Uint16Array | Int32Array;
  /** The flag bit of a state with outputs, in cells and wide edges; `mask` strips it. */
  private readonly hit: number;
  private readonly mask: number;
  /**
   * Code unit ≥ 128 → its column among the wide code units patterns contain (0 = none: reading it
   * always returns to the root, with no lookup at all).
   */
  private readonly wideClasses: Uint16Array;
  /** Wide goto edges, (state, column) → flagged next state, in one open-addressing table. */
  private readonly wideStates: Int32Array;
  private readonly wideColumns: Int32Array;
  private readonly wideValues: Int32Array;
  private readonly wideShift: number;
  /** The nearest state on each state's failure chain (itself included) that has a wide goto edge, or the root. */
  private readonly wideFrom: Int32Array;
  private readonly fail: Int32Array;
  private readonly out: Array<Int32Array | undefined>;
  private readonly lengths: Int32Array;

  /** Builds the automaton. Empty patterns are ignored (they would match everywhere). */
  constructor(patterns: readonly string[]) {
    this.lengths = Int32Array.from(patterns, (p) => p.length);
    // 1. The trie, with Map edges for every code unit.
    const edges: Array<Map<number, number>> = [new Map()];
    const own: number[][] = [[]];
    const classes = new Uint8Array(ASCII);
    const wideClasses = new Uint16Array(0x10000);
    let width = 1;
    let wideCount = 1;
    patterns.forEach((p, index) => {
      if (p.length === 0) return;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        if (c < ASCII) {
          if (classes[c] === 0) classes[c] = width++;
        } else if (wideClasses[c] === 0) wideClasses[c] = wideCount++;
        let next = edges[s]!.get(c);
        if (next === undefined) {
          next = edges.length;
          edges.push(new Map());
          own.push([]);
          edges[s]!.set(c, next);
        }
        s = next;
      }
      own[s]!.push(index);
    });

    // 2. Number states breadth-first, so the shallow states every scan visits sit together in memory
    //    (the dense table is megabytes; its first rows are the hot ones).
    const n = edges.length;
    const order = [0];
    for (let qi = 0; qi < order.length; qi++) for (const t of edges[order[qi]!]!.values()) order.push(t);
    const id = new Int32Array(n);
    order.forEach((old, i) => {
      id[old] = i;
    });

    // 3. Failure links in the same breadth-first order; the ASCII table becomes a full DFA on the way.
    const hit = n <= 0x7fff ? 0x8000 : 0x40000000;
    const mask = hit - 1;
    const fail = new Int32Array(n);
    const ascii = hit === 0x8000 ? new Uint16Array(n * width) : new Int32Array(n * width);
    const wide: Array<Map<number, number> | undefined> = new Array(n);
    const out: Array<Int32Array | undefined> = new Array(n);
    const wideFrom = new Int32Array(n);
    let wideEdges = 0;
    for (let s = 0; s < n; s++) {
      const old = order[s]!;
      const f = fail[s]!;
      const merged = s === 0 ? own[old]! : own[old]!.concat(out[f] ? Array.from(out[f]!) : []);
      out[s] = merged.length > 0 ? Int32Array.from(merged) : undefined;
      if (s > 0) ascii.set(ascii.subarray(f * width, f * width + width), s * width);
      for (const [c, oldNext] of edges[old]!) {
        const t = id[oldNext]!;
        // The failure of a child: follow the parent's failure chain until a state with an edge on c.
        fail[t] = s === 0 ? 0 : c < ASCII ? ascii[f * width + classes[c]!]! : stepWideIn(wide, fail, f, c);
        if (c < ASCII) ascii[s * width + classes[c]!] = t;
        else {
          let m = wide[s];
          if (m === undefined) {
            m = new Map();
            wide[s] = m;
          }
          m.set(c, t);
          wideEdges++;
        }
      }
      // Parents come first in breadth-first order, so the failure state's entry is final.
      wideFrom[s] = wide[s] !== undefined || s === 0 ? s : wideFrom[f]!;
    }
    // 4. Flag the states with outputs in every cell that leads to them.
    for (let k = 0; k < ascii.length; k++) if (out[ascii[k]!] !== undefined) ascii[k] = ascii[k]! | hit;
    // 5. The wide edges in one open-addressing table (a Map lookup per character cost more on CJK text).
    let wideShift = 31;
    while (1 << (32 - wideShift) < wideEdges * 2) wideShift--;
    const wideStates = new Int32Array(1 << (32 - wideShift)).fill(NO_KEY);
    const wideColumns = new Int32Array(wideStates.length);
    const wideValues = new Int32Array(wideStates.length);
    wide.forEach((m, s) => {
      if (m === undefined) return;
      for (const [c, t] of m) {
        const column = wideClasses[c]!;
        let slot = wideSlot(s, column, wideShift);
        while (wideStates[slot] !== NO_KEY) slot = (slot + 1) & (wideStates.length - 1);
        wideStates[slot] = s;
        wideColumns[slot] = column;
        wideValues[slot] = out[t] !== undefined ? t | hit : t;
      }
    });
    this.classes = classes;
    this.width = width;
    this.ascii = ascii;
    this.hit = hit;
    this.mask = mask;
    this.wideClasses = wideClasses;
    this.wideStates = wideStates;
    this.wideColumns = wideColumns;
    this.wideValues = wideValues;
    this.wideShift = wideShift;
    this.wideFrom = wideFrom;
    this.fail = fail;
    this.out = out;
  }

  /** The flagged state after reading wide code unit `c` in state `s`. */
  private stepWide(s: number, c: number): number {
    const column = this.wideClasses[c]!;
    if (column === 0) return 0; // no pattern contains c
    const { wideStates, wideColumns, wideValues, wideShift, wideFrom, fail } = this;
    const last = wideStates.length - 1;
    let state = s;
    for (;;) {
      state = wideFrom[state]!;
      for (let slot = wideSlot(state, column, wideShift); ; slot = (slot + 1) & last) {
        const k = wideStates[slot]!;
        if (k === state && wideColumns[slot] === column) return wideValues[slot]!;
        if (k === NO_KEY) break;
      }
      if (state === 0) return 0;
      state = fail[state]!;
    }
  }

  /**
   * Calls `onMatch(pattern, start, end)` for every occurrence, in order of `end`. With `boundaries`
   * (per pattern: bit 1 = needs a word boundary on the left, bit 2 = on the right, where a word
   * character is what `isWord` says), occurrences inside words are skipped here, before the callback:
   * short patterns ("eu", "us") occur inside many words, and most of the scan's callbacks would be those.
   */
  scan(
    text: string,
    onMatch: (pattern: number, start: number, end: number) => void,
    boundaries?: Uint8Array,
    isWord?: (text: string, index: number) => boolean,
  ): void {
    const { ascii, classes, width, hit, mask, out, lengths } = this;
    const n = text.length;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      s = c < ASCII ? ascii[(s & mask) * width + classes[c]!]! : this.stepWide(s & mask, c);
      if ((s & hit) === 0) continue;
      const o = out[s & mask]!;
      const end = i + 1;
      for (let k = 0; k < o.length; k++) {
        const p = o[k]!;
        const start = end - lengths[p]!;
        if (boundaries !== undefined && isWord !== undefined) {
          const b = boundaries[p]!;
          if ((b & 1) !== 0 && start > 0 && isWord(text, start - 1)) continue;
          if ((b & 2) !== 0 && end < n && isWord(text, end)) continue;
        }
        onMatch(p, start, end);
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

/** Home slot of a wide edge in a table of 2^(32 - shift) slots (Fibonacci hashing). */
function wideSlot(state: number, column: number, shift: number): number {
  return (Math.imul(state, 0x9e3779b1) ^ Math.imul(column, 0x85ebca6b)) >>> shift;
}

/** Follows failure links from `s` until a state with an edge for wide code unit `c` (or the root); for building. */
function stepWideIn(wide: Array<Map<number, number> | undefined>, fail: Int32Array, s: number, c: number): number {
  let state = s;
  for (;;) {
    const t = wide[state]?.get(c);
    if (t !== undefined) return t;
    if (state === 0) return 0;
    state = fail[state]!;
  }
}
