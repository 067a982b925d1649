import { HammingIndex } from './hamming-index.js';
import { createNormalizer } from './normalize.js';

/**
 * Story identity. Outlets syndicate one wire story with small edits (an outlet name appended to the
 * headline, a lead cut at a different place, typographic quotes). A 64-bit SimHash over the words and
 * word pairs of title + lead lets near-identical copies share an id with no state at all; the
 * {@link StoryClusterer} then joins rewrites whose hashes differ in a few bits.
 */

/** A 64-bit SimHash as two unsigned 32-bit halves (plain numbers: no BigInt on the hot path). */
export interface SimHash {
  readonly hi: number;
  readonly lo: number;
}

const normalizeForStory = createNormalizer(new Map(), { withOffsets: false });
/** Syndication suffixes: "… - Reuters", "… | The Verge", "… — SCMP". */
const OUTLET_SUFFIX = /\s+[-|–—:]\s+[^-|–—:]{1,40}$/u;
const STOP_WORDS =
  'a an the of to in on at for and or by with from as is are was were be been that this it its into over after amid says said will would new';
/** Only the start of a lead counts: outlets cut leads at different lengths. */
const MAX_SUMMARY_TOKENS = 40;
const MAX_TITLE_TOKENS = 60;
/** Bit planes of the vertical counters: enough for weights summing to 2^12. */
const PLANES = 12;

function fmix32(h: number): number {
  return mix32(h) >>> 0;
}

/** {@link fmix32} as a signed 32-bit integer (stays a small integer in the hot loops, never boxed). */
function mix32(h: number): number {
  let x = h | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x;
}

const isCjk = (c: number): boolean =>
  (c >= 0x4e00 && c <= 0x9fff) ||
  (c >= 0x3400 && c <= 0x4dbf) ||
  (c >= 0x3040 && c <= 0x30ff) ||
  (c >= 0xac00 && c <= 0xd7af) ||
  (c >= 0x1100 && c <= 0x11ff) ||
  (c >= 0x3130 && c <= 0x318f) ||
  (c >= 0xf900 && c <= 0xfaff);
const LETTER = /[\p{L}\p{N}]/u;
/** Per code unit: 0 = not looked at yet, 1 = a word unit, 2 = not (a regex test per character was slow). */
const WORD_UNITS = new Uint8Array(0x10000);
for (let c = 0; c < 128; c++) WORD_UNITS[c] = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) ? 1 : 2;
/** A word character that is not CJK (CJK runs are cut into bigrams instead). */
function isWordUnit(c: number): boolean {
  let known = WORD_UNITS[c]!;
  if (known === 0) {
    known = !isCjk(c) && LETTER.test(String.fromCharCode(c)) ? 1 : 2;
    WORD_UNITS[c] = known;
  }
  return known === 1;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** FNV-1a of a token's code units (the first half of its 64-bit hash), as a signed 32-bit integer. */
function fnv(text: string, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/**
 * The stop words' hashes in a small open-addressing table: a Set of numbers boxed every hash beyond
 * the small-integer range on each lookup.
 */
const STOP_SLOTS = 128;
const STOP_KEYS = new Int32Array(STOP_SLOTS);
const STOP_USED = new Uint8Array(STOP_SLOTS);
const stopSlot = (h: number): number => Math.imul(h, 0x9e3779b1) >>> 25;
for (const w of STOP_WORDS.split(' ')) {
  const h = fnv(w, 0, w.length);
  let slot = stopSlot(h);
  while (STOP_USED[slot] === 1 && STOP_KEYS[slot] !== h) slot = (slot + 1) & (STOP_SLOTS - 1);
  STOP_KEYS[slot] = h;
  STOP_USED[slot] = 1;
}
function isStop(h: number): boolean {
  for (let slot = stopSlot(h); STOP_USED[slot] === 1; slot = (slot + 1) & (STOP_SLOTS - 1)) {
    if (STOP_KEYS[slot] === h) return true;
  }
  return false;
}

/**
 * A crude English stemmer: rewrites mostly change inflections ("firms"/"firm", "added"/"adds"), so
 * long words lose a plural or tense ending before hashing. Returns the end of the kept stem.
 */
function stem(text: string, start: number, end: number): number {
  const len = end - start;
  if (len < 5) return end;
  const last = text.charCodeAt(end - 1);
  if (last === 115 /* s */) return text.charCodeAt(end - 2) === 115 ? end : end - 1;
  if (len > 5 && last === 100 /* d */ && text.charCodeAt(end - 2) === 101 /* e */) return end - 2;
  if (len > 6 && last === 103 /* g */ && text.charCodeAt(end - 2) === 110 && text.charCodeAt(end - 3) === 105) {
    return end - 3; // -ing
  }
  return end;
}

/** Token hashes of the field being hashed (one field at a time; the hash is synchronous). */
const tokenScratch = new Int32Array(Math.max(MAX_TITLE_TOKENS, MAX_SUMMARY_TOKENS));

/**
 * Tokens of normalized text as 32-bit hashes, into {@link tokenScratch}; returns their number. Words
 * of space-separated scripts (stop words dropped), and character bigrams of CJK runs, which have no
 * spaces between words.
 */
function tokenHashes(text: string, limit: number): number {
  const out = tokenScratch;
  let count = 0;
  let i = 0;
  const n = text.length;
  while (i < n && count < limit) {
    const c = text.charCodeAt(i);
    if (c >= 128 && isCjk(c)) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (isCjk(next)) out[count++] = fnv(text, i, i + 2);
      else if (i === 0 || !isCjk(text.charCodeAt(i - 1))) out[count++] = fnv(text, i, i + 1);
      i++;
    } else if (isWordUnit(c)) {
      // Hash while reading, keeping the hashes without the last three units for the stemmer.
      const start = i;
      let h = FNV_OFFSET;
      let h1 = 0;
      let h2 = 0;
      let h3 = 0;
      do {
        h3 = h2;
        h2 = h1;
        h1 = h;
        h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
        i++;
      } while (i < n && isWordUnit(text.charCodeAt(i)));
      const cut = i - stem(text, start, i);
      const stemmed = cut === 0 ? h : cut === 1 ? h1 : cut === 2 ? h2 : h3;
      if (!isStop(stemmed)) out[count++] = stemmed;
    } else {
      i++;
    }
  }
  return count;
}

/**
 * Vertical (bit-sliced) counters: plane p holds bit p of the count of every one of 32 bit positions,
 * so adding a feature costs a few word operations instead of 64 additions.
 */
function addToPlanes(planes: Int32Array, x: number, firstPlane: number): void {
  let carry = x | 0;
  for (let p = firstPlane; carry !== 0 && p < PLANES; p++) {
    const t = planes[p]! & carry;
    planes[p]! ^= carry;
    carry = t;
  }
}

/** The bit positions whose count exceeds `half`: one bit-sliced comparison of all 32 counters. */
function bitsOver(planes: Int32Array, half: number): number {
  // count > half ⇔ count > floor(half) for whole counts; counts are PLANES bits wide.
  const limit = Math.floor(half);
  if (limit >= 1 << PLANES) return 0;
  let greater = 0;
  let equal = -1;
  for (let p = PLANES - 1; p >= 0; p--) {
    const plane = planes[p]!;
    if (((limit >>> p) & 1) === 1) equal &= plane;
    else {
      greater |= equal & plane;
      equal &= ~plane;
    }
  }
  return greater >>> 0;
}

/** Where a syndication suffix (" - Reuters") starts in a title, or the title's length. */
export function outletSuffixStart(title: string): number {
  const m = OUTLET_SUFFIX.exec(title);
  return m === null ? title.length : m.index;
}

/**
 * SimHash over already-normalized title and lead (title features count twice); `undefined` when the
 * text has no tokens. The engine calls this with its own normalized text, so it normalizes once.
 */
export function simhashOfNormalized(title: string, summary: string): SimHash | undefined {
  const hiPlanes = hiScratch.fill(0);
  const loPlanes = loScratch.fill(0);
  // Headlines carry word pairs (order matters there); leads only words, since rewrites of a lead
  // reorder clauses and each changed word would cost three features with pairs.
  let total = addTokens(hiPlanes, loPlanes, tokenHashes(title, MAX_TITLE_TOKENS), 1, true);
  total += addTokens(hiPlanes, loPlanes, tokenHashes(summary, MAX_SUMMARY_TOKENS), 0, false);
  if (total === 0) return undefined;
  const half = total / 2;
  return { hi: bitsOver(hiPlanes, half), lo: bitsOver(loPlanes, half) };
}

const hiScratch = new Int32Array(PLANES);
const loScratch = new Int32Array(PLANES);

/** Adds the first `count` hashes of {@link tokenScratch} (and their pairs); returns the weight added. */
function addTokens(
  hiPlanes: Int32Array,
  loPlanes: Int32Array,
  count: number,
  plane: number,
  withPairs: boolean,
): number {
  const tokens = tokenScratch;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const a = tokens[i]!;
    // Unigram, then the pair with the next token; the second half of each 64-bit hash is derived.
    addToPlanes(hiPlanes, mix32(a), plane);
    addToPlanes(loPlanes, mix32(a ^ 0x5bd1e995), plane);
    total += 1 << plane;
    if (withPairs && i + 1 < count) {
      // Arithmetic mod 2^32, as the hash was first written with unsigned token hashes.
      const pair = Math.imul(a, 0x01000193) ^ mix32((tokens[i + 1]! + 0x9e3779b9) | 0);
      addToPlanes(hiPlanes, mix32(pair), plane);
      addToPlanes(loPlanes, mix32(pair ^ 0x27d4eb2f), plane);
      total += 1 << plane;
    }
  }
  return total;
}

/** 64-bit SimHash of a story's title and lead. */
export function simhash64(title: string, summary = ''): SimHash {
  const h = simhashOfNormalized(
    normalizeForStory(title.slice(0, outletSuffixStart(title))).text,
    normalizeForStory(summary.slice(0, 800)).text,
  );
  return h ?? exactHash(title, summary);
}

/** For items with nothing to compare (only punctuation): an exact hash keeps different items apart. */
export function exactHash(title: string, summary: string): SimHash {
  const raw = `${title}\u0000${summary}`;
  const a = fnv(raw, 0, raw.length);
  return { hi: fmix32(a), lo: fmix32(a ^ 0x27d4eb2f) };
}

function popcount32(x: number): number {
  let n = x - ((x >>> 1) & 0x55555555);
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (Math.imul((n + (n >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Number of differing bits between two SimHashes (0..64). */
export function hammingDistance(a: SimHash, b: SimHash): number {
  return popcount32((a.hi ^ b.hi) >>> 0) + popcount32((a.lo ^ b.lo) >>> 0);
}

/** Two hex digits per byte: `toString(16).padStart` per half cost ~0.4 µs per id. */
const HEX_BYTES = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const hex8 = (x: number): string =>
  HEX_BYTES[x >>> 24]! + HEX_BYTES[(x >>> 16) & 255]! + HEX_BYTES[(x >>> 8) & 255]! + HEX_BYTES[x & 255]!;

/** The story id for a hash: `st-` and 16 hex digits. Also a valid BullMQ job-id part (no `:`). */
export function formatStoryId(h: SimHash): string {
  return `st-${hex8(h.hi)}${hex8(h.lo)}`;
}

/** Parses an id made by {@link formatStoryId} back into its hash. */
export function parseStoryId(id: string): SimHash | undefined {
  const m = /^st-([0-9a-f]{8})([0-9a-f]{8})$/.exec(id);
  return m ? { hi: Number.parseInt(m[1]!, 16), lo: Number.parseInt(m[2]!, 16) } : undefined;
}

/**
 * Stateless story id: identical for copies that differ only in case, width, accents, punctuation,
 * quotes, an outlet suffix or where the lead was cut past its first 40 words.
 */
export function storyIdFor(title: string, summary = ''): string {
  return formatStoryId(simhash64(title, summary));
}

export interface StoryClustererOptions {
  /** Largest Hamming distance at which two items are the same story. */
  maxDistance?: number;
  /** How long a story stays joinable. */
  windowMs?: number;
  /** Most recent items remembered (older ones are forgotten first). */
  maxItems?: number;
}

export interface StoryAssignment {
  storyId: string;
  /** True when no earlier item in the window was close enough. */
  isNew: boolean;
  /** Distance to the item it was joined to (0 for a new story). */
  distance: number;
}

/**
 * Joins near-duplicate items into stories: a new item takes the story id of the closest remembered
 * item within `maxDistance` bits, else starts a story with its own id. Pure and in memory; a service
 * can persist `export()`/`import()` snapshots (e.g. in Redis) to share it between workers.
 */
export class StoryClusterer {
  readonly maxDistance: number;
  readonly windowMs: number;
  readonly maxItems: number;
  /** The remembered hashes, by slot; `ats` and `ids` hold each slot's time and story id. */
  private readonly index: HammingIndex;
  private readonly ats: Float64Array;
  private readonly ids: string[];

  /** @throws RangeError when `maxDistance` is not 0–63 or `maxItems` not a positive integer. */
  constructor(options: StoryClustererOptions = {}) {
    this.maxDistance = options.maxDistance ?? 8;
    this.windowMs = options.windowMs ?? 72 * 3600_000;
    this.maxItems = options.maxItems ?? 20_000;
    this.index = new HammingIndex(this.maxItems, this.maxDistance);
    this.ats = new Float64Array(this.maxItems);
    this.ids = new Array(this.maxItems).fill('');
  }

  /**
   * Assigns a story to an item (or to a precomputed hash), and remembers it. The item joins the
   * closest remembered item within the window (the newest of equally close ones).
   */
  assign(item: { title: string; summary?: string } | SimHash, at: number = Date.now()): StoryAssignment {
    const h = 'hi' in item ? item : simhash64(item.title, item.summary ?? '');
    const near = this.index.nearest(h.hi, h.lo, (slot) => at - this.ats[slot]! <= this.windowMs);
    const assignment: StoryAssignment = near
      ? { storyId: this.ids[near.slot]!, isNew: false, distance: near.distance }
      : { storyId: formatStoryId(h), isNew: true, distance: 0 };
    this.remember(h, assignment.storyId, at);
    return assignment;
  }

  private remember(h: SimHash, storyId: string, at: number): void {
    const slot = this.index.add(h.hi, h.lo);
    this.ats[slot] = at;
    this.ids[slot] = storyId;
  }

  /** Items remembered (including ones past the window not yet overwritten). */
  get size(): number {
    return this.index.size;
  }

  /** A JSON-friendly snapshot, oldest first. */
  export(): Array<{ hash: string; storyId: string; at: number }> {
    const out: Array<{ hash: string; storyId: string; at: number }> = [];
    for (let k = this.index.size - 1; k >= 0; k--) {
      const i = (this.index.nextSlot - 1 - k + this.maxItems) % this.maxItems;
      out.push({
        hash: formatStoryId(this.index.hashOf(i)),
        storyId: this.ids[i]!,
        at: this.ats[i]!,
      });
    }
    return out;
  }

  /** Restores a snapshot made by {@link export}. */
  import(entries: ReadonlyArray<{ hash: string; storyId: string; at: number }>): void {
    for (const e of entries) {
      const h = parseStoryId(e.hash);
      if (h !== undefined) this.remember(h, e.storyId, e.at);
    }
  }
}
