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

const normalizeForStory = createNormalizer();
/** Syndication suffixes: "… - Reuters", "… | The Verge", "… — SCMP". */
const OUTLET_SUFFIX = /\s+[-|–—:]\s+[^-|–—:]{1,40}$/u;
const TOKEN = /[\p{L}\p{N}]+/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const STOP = new Set(
  'a an the of to in on at for and or by with from as is are was were be been that this it its into over after amid says said will would new'.split(
    ' ',
  ),
);
/** Only the start of a lead counts: outlets cut leads at different lengths. */
const MAX_SUMMARY_TOKENS = 50;

function fmix32(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Two independent 32-bit hashes of a string (FNV-1a, then a murmur finalizer for avalanche). */
function hash64(s: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return [fmix32(a), fmix32(b ^ a)];
}

function tokens(normalized: string, limit: number): string[] {
  const out: string[] = [];
  for (const m of normalized.matchAll(TOKEN)) {
    const t = m[0];
    if (CJK.test(t)) {
      // No spaces between CJK words: character bigrams stand in for words.
      const chars = [...t];
      if (chars.length === 1) out.push(t);
      for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
    } else if (!STOP.has(t)) {
      out.push(t);
    }
    if (out.length >= limit) break;
  }
  return out;
}

/** The text a story hash is computed from: the headline without an outlet suffix, and the lead. */
export function storyFeatures(title: string, summary: string): Map<string, number> {
  const features = new Map<string, number>();
  const add = (list: string[], weight: number): void => {
    for (let i = 0; i < list.length; i++) {
      features.set(list[i]!, (features.get(list[i]!) ?? 0) + weight);
      if (i + 1 < list.length) {
        const pair = `${list[i]} ${list[i + 1]}`;
        features.set(pair, (features.get(pair) ?? 0) + weight);
      }
    }
  };
  add(tokens(normalizeForStory(title.replace(OUTLET_SUFFIX, '')).text, 200), 2);
  add(tokens(normalizeForStory(summary).text, MAX_SUMMARY_TOKENS), 1);
  return features;
}

/** 64-bit SimHash of a story's title and lead. */
export function simhash64(title: string, summary = ''): SimHash {
  const v = new Float64Array(64);
  const features = storyFeatures(title, summary);
  if (features.size === 0) {
    // Nothing to compare: fall back to an exact hash so different empty-ish items stay apart.
    const [hi, lo] = hash64(`${title}\u0000${summary}`);
    return { hi, lo };
  }
  for (const [f, w] of features) {
    const [h1, h2] = hash64(f);
    for (let b = 0; b < 32; b++) {
      v[b]! += (h1 >>> b) & 1 ? w : -w;
      v[b + 32]! += (h2 >>> b) & 1 ? w : -w;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let b = 0; b < 32; b++) {
    if (v[b]! > 0) hi |= 1 << b;
    if (v[b + 32]! > 0) lo |= 1 << b;
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
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

/** The story id for a hash: `st-` and 16 hex digits. Also a valid BullMQ job-id part (no `:`). */
export function formatStoryId(h: SimHash): string {
  return `st-${h.hi.toString(16).padStart(8, '0')}${h.lo.toString(16).padStart(8, '0')}`;
}

/** Parses an id made by {@link formatStoryId} back into its hash. */
export function parseStoryId(id: string): SimHash | undefined {
  const m = /^st-([0-9a-f]{8})([0-9a-f]{8})$/.exec(id);
  return m ? { hi: Number.parseInt(m[1]!, 16), lo: Number.parseInt(m[2]!, 16) } : undefined;
}

/**
 * Stateless story id: identical for copies that differ only in case, width, accents, punctuation,
 * quotes, an outlet suffix or where the lead was cut past its first 50 words.
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
  private readonly his: Uint32Array;
  private readonly los: Uint32Array;
  private readonly ats: Float64Array;
  private readonly ids: string[];
  private next = 0;
  private count = 0;

  constructor(options: StoryClustererOptions = {}) {
    this.maxDistance = options.maxDistance ?? 8;
    this.windowMs = options.windowMs ?? 72 * 3600_000;
    this.maxItems = options.maxItems ?? 20_000;
    this.his = new Uint32Array(this.maxItems);
    this.los = new Uint32Array(this.maxItems);
    this.ats = new Float64Array(this.maxItems);
    this.ids = new Array(this.maxItems).fill('');
  }

  /** Assigns a story to an item (or to a precomputed hash), and remembers it. */
  assign(item: { title: string; summary?: string } | SimHash, at: number = Date.now()): StoryAssignment {
    const h = 'hi' in item ? item : simhash64(item.title, item.summary ?? '');
    let best = -1;
    let bestDistance = this.maxDistance + 1;
    for (let k = 0; k < this.count; k++) {
      const i = (this.next - 1 - k + this.maxItems) % this.maxItems; // newest first
      if (at - this.ats[i]! > this.windowMs) continue;
      const d = popcount32((h.hi ^ this.his[i]!) >>> 0) + popcount32((h.lo ^ this.los[i]!) >>> 0);
      if (d < bestDistance) {
        best = i;
        bestDistance = d;
        if (d === 0) break;
      }
    }
    const assignment: StoryAssignment =
      best >= 0
        ? { storyId: this.ids[best]!, isNew: false, distance: bestDistance }
        : { storyId: formatStoryId(h), isNew: true, distance: 0 };
    this.remember(h, assignment.storyId, at);
    return assignment;
  }

  private remember(h: SimHash, storyId: string, at: number): void {
    this.his[this.next] = h.hi;
    this.los[this.next] = h.lo;
    this.ats[this.next] = at;
    this.ids[this.next] = storyId;
    this.next = (this.next + 1) % this.maxItems;
    this.count = Math.min(this.count + 1, this.maxItems);
  }

  /** Items remembered (including ones past the window not yet overwritten). */
  get size(): number {
    return this.count;
  }

  /** A JSON-friendly snapshot, oldest first. */
  export(): Array<{ hash: string; storyId: string; at: number }> {
    const out: Array<{ hash: string; storyId: string; at: number }> = [];
    for (let k = this.count - 1; k >= 0; k--) {
      const i = (this.next - 1 - k + this.maxItems) % this.maxItems;
      out.push({
        hash: formatStoryId({ hi: this.his[i]!, lo: this.los[i]! }),
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
