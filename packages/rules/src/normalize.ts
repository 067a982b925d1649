/**
 * Text normalization with a map back to the original string.
 *
 * Matching runs on a folded copy of each field: NFKC (full-width → half-width, ligatures, compatibility
 * forms), lower case, combining marks stripped (so "Ausfuhrbeschränkung" and "ausfuhrbeschrankung" meet)
 * except the vowel signs of Brahmic scripts (Hindi, Malayalam), which are letters of the word,
 * a per-taxonomy character map (traditional → simplified Chinese), dashes and runs of white space collapsed
 * into one space. Evidence must quote the ORIGINAL text, so every code unit of the folded copy remembers
 * the UTF-16 range of the original character it came from.
 */

export interface NormalizedText {
  /** The folded text that patterns are matched against. */
  readonly text: string;
  /** `starts[i]` is the offset in the original of the character that produced `text[i]`. */
  readonly starts: Uint32Array;
  /** `ends[i]` is the end offset (exclusive) in the original of that character. */
  readonly ends: Uint32Array;
}

export type Normalizer = (input: string) => NormalizedText;

/** Characters folded to a plain space: dashes and hyphens join words as often as spaces do in headlines. */
const SPACE_LIKE = /^[\s\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff\-\u2010-\u2015\u2212_]+$/u;
/** Typographic apostrophes and quotes, folded to their ASCII forms so `China’s` matches `china's`. */
const QUOTES: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u02bc': "'",
  '\u2032': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u00ab': '"',
  '\u00bb': '"',
};
const MARKS = /\p{M}/gu;
/**
 * Brahmic scripts (Devanagari … Malayalam): their vowel signs and viramas are combining marks that
 * carry the word, not accents. Stripping them merged distinct words (Malayalam തീരുവ "duty" with
 * തിരുവോണം "Onam", Hindi प्रतिबंधों "sanctions" with प्रतिबंध "ban"), so they are kept.
 */
const INDIC = /^[\u0900-\u0dff]/u;
/** Zero-width joiner and non-joiner: invisible shaping hints (Malayalam ലാപ്‌ടോപ്പ്), dropped. */
const JOINERS = /[\u200c\u200d]/g;

/** Folds one character (code point) to its matching form; `''` drops it (a lone combining mark). */
export function foldChar(ch: string, charMap: ReadonlyMap<string, string>): string {
  let s = INDIC.test(ch)
    ? ch.normalize('NFKC')
    : ch.normalize('NFKC').toLowerCase().normalize('NFD').replace(MARKS, '').replace(JOINERS, '');
  if (s.length === 0) return s;
  if (SPACE_LIKE.test(s)) return ' ';
  let out = '';
  for (const c of s) out += QUOTES[c] ?? charMap.get(c) ?? c;
  s = out;
  return s;
}

const decoder = new TextDecoder('utf-16le');

/** Folds code points through a per-character memo; shared by every normalizer of one taxonomy. */
export type Folder = (cp: number) => string;

/**
 * Memoizes {@link foldChar}: `String.prototype.normalize` per character would otherwise dominate the
 * classifier's cost. A flat array for the BMP (an index is cheaper than a Map lookup on CJK-heavy
 * text), a Map for the rest.
 */
export function createFolder(charMap: ReadonlyMap<string, string> = new Map()): Folder {
  const bmp: Array<string | undefined> = new Array(0x10000);
  const astral = new Map<number, string>();
  return (cp: number): string => {
    let s = cp < 0x10000 ? bmp[cp] : astral.get(cp);
    if (s === undefined) {
      s = foldChar(String.fromCodePoint(cp), charMap);
      if (cp < 0x10000) bmp[cp] = s;
      else astral.set(cp, s);
    }
    return s;
  };
}

/**
 * A normalizer that folds into buffers it keeps and reuses: `run` returns the instance itself, whose
 * `starts` are valid for indices below `text.length` until the next `run` (the array may be longer),
 * and whose `endOf(i)` gives what `ends[i]` of a {@link NormalizedText} would. For a synchronous
 * caller that needs one field at a time (the classifier keeps one per field): copying the offsets out
 * cost more than the folding itself (two typed arrays per field, off the V8 heap).
 */
export class ScratchNormalizer {
  text = '';
  starts = new Uint32Array(1024);
  /** Whether `text` holds an ASCII digit (regex patterns that need one are skipped otherwise). */
  hasDigit = false;
  private input = '';
  /** The folded text while every code unit is below 256 (a Buffer makes its string fastest)… */
  private bytes = Buffer.allocUnsafe(1024);
  /** …and once one is not: from then on the text is written here only. */
  private out = new Uint16Array(1024);

  constructor(private readonly fold: Folder) {}

  /**
   * End offset (exclusive) in the original of the character that produced `text[i]`: every folded
   * unit comes from one code point, and `starts[i]` is where that code point begins.
   */
  endOf(i: number): number {
    const start = this.starts[i]!;
    return start + ((this.input.codePointAt(start) as number) > 0xffff ? 2 : 1);
  }

  private grow(len: number, need: number): void {
    const cap = Math.max(this.starts.length * 2, len + need + 16);
    const o = new Uint16Array(cap);
    o.set(this.out.subarray(0, len));
    this.out = o;
    const b = Buffer.allocUnsafe(cap);
    this.bytes.copy(b, 0, 0, len);
    this.bytes = b;
    const s = new Uint32Array(cap);
    s.set(this.starts.subarray(0, len));
    this.starts = s;
  }

  run(input: string): this {
    const n = input.length;
    this.input = input;
    // Folding rarely grows text (ligatures, ㎏); grow up front for the common case. After that, only
    // a non-ASCII character can outgrow the buffers: the ASCII loops below need no checks.
    if (n + 16 > this.starts.length) this.grow(0, n + 16);
    let len = 0;
    let lastWasSpace = true; // true at the start, so leading white space is dropped
    let isWide = false; // a unit ≥ 256 was written: the text is in `out`, no longer in `bytes`
    let hasDigit = false;
    let i = 0;
    while (i < n) {
      // A run of ASCII (the common case for English feeds), with the arrays fixed for the loop. The
      // two copies differ only in the array written.
      const starts = this.starts;
      if (!isWide) {
        const bytes = this.bytes;
        for (; i < n; i++) {
          const c = input.charCodeAt(i);
          if (c >= 128) break;
          if (c === 32 || c === 45 || c === 95 || (c >= 9 && c <= 13)) {
            if (lastWasSpace) continue;
            bytes[len] = 32;
            starts[len++] = i;
            lastWasSpace = true;
          } else {
            if (c >= 48 && c <= 57) hasDigit = true;
            bytes[len] = c >= 65 && c <= 90 ? c + 32 : c;
            starts[len++] = i;
            lastWasSpace = false;
          }
        }
      } else {
        const out = this.out;
        for (; i < n; i++) {
          const c = input.charCodeAt(i);
          if (c >= 128) break;
          if (c === 32 || c === 45 || c === 95 || (c >= 9 && c <= 13)) {
            if (lastWasSpace) continue;
            out[len] = 32;
            starts[len++] = i;
            lastWasSpace = true;
          } else {
            if (c >= 48 && c <= 57) hasDigit = true;
            out[len] = c >= 65 && c <= 90 ? c + 32 : c;
            starts[len++] = i;
            lastWasSpace = false;
          }
        }
      }
      if (i >= n) break;

      const cp = input.codePointAt(i) as number;
      const width = cp > 0xffff ? 2 : 1;
      const s = this.fold(cp);
      if (s === ' ') {
        if (!lastWasSpace) {
          if (isWide) this.out[len] = 32;
          else this.bytes[len] = 32;
          this.starts[len++] = i;
          lastWasSpace = true;
        }
      } else if (s.length > 0) {
        // Keep room for one unit per remaining input unit, as the ASCII loops assume.
        if (len + s.length > this.starts.length - (n - i)) this.grow(len, s.length + (n - i));
        for (let k = 0; k < s.length; k++) {
          const u = s.charCodeAt(k);
          if (u >= 48 && u <= 57) hasDigit = true;
          if (!isWide && u >= 256) {
            // The first unit that does not fit a byte: move the text so far to the 16-bit buffer.
            for (let j = 0; j < len; j++) this.out[j] = this.bytes[j]!;
            isWide = true;
          }
          if (isWide) this.out[len] = u;
          else this.bytes[len] = u;
          this.starts[len++] = i;
        }
        lastWasSpace = false;
      }
      i += width;
    }
    // Drop one trailing space so patterns and text agree on "no space at the ends".
    if (len > 0 && lastWasSpace) len--;
    this.hasDigit = hasDigit;
    this.text = isWide ? codeUnitsToString(this.out, len) : this.bytes.toString('latin1', 0, len);
    return this;
  }
}

/** Turns UTF-16 code units into a string; TextDecoder beats String.fromCharCode for long inputs. */
function codeUnitsToString(buf: Uint16Array, len: number): string {
  if (len <= 24) {
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(buf[i]!);
    return s;
  }
  return decoder.decode(buf.subarray(0, len));
}

/**
 * Builds a normalizer for one character map. Non-ASCII characters are folded once and memoized.
 * Without offsets (`withOffsets: false`), `starts`/`ends` are empty: for hashing, not for evidence.
 */
export function createNormalizer(
  charMap: ReadonlyMap<string, string> = new Map(),
  { withOffsets = true }: { withOffsets?: boolean } = {},
): Normalizer {
  return normalizerWith(createFolder(charMap), withOffsets);
}

/** {@link createNormalizer} over a given memo (the classifier's normalizers share one). */
export function normalizerWith(fold: Folder, withOffsets = true): Normalizer {
  const scratch = new ScratchNormalizer(fold);
  const EMPTY = new Uint32Array(0);
  return (input: string): NormalizedText => {
    const { text, starts } = scratch.run(input);
    if (!withOffsets) return { text, starts: EMPTY, ends: EMPTY };
    const ends = new Uint32Array(text.length);
    for (let i = 0; i < text.length; i++) ends[i] = scratch.endOf(i);
    return { text, starts: starts.slice(0, text.length), ends };
  };
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
// Marks count as word characters: the only ones left after folding are Brahmic vowel signs and
// viramas, which sit inside words (a term must not match the first half of तस्करों).
const LETTER_OR_DIGIT = /[\p{L}\p{N}\p{M}]/u;

/**
 * A "word" character for boundary checks: letters and digits of scripts that separate words with
 * spaces. CJK scripts (and Hangul, whose particles attach to nouns: 상무부가) never need boundaries.
 */
export function isWordChar(ch: string | undefined): boolean {
  if (ch === undefined || ch === '') return false;
  return isWordAt(ch, 0);
}

/** {@link isWordChar} for the code unit at `index`, without allocating a one-character string. */
export function isWordAt(text: string, index: number): boolean {
  const c = text.charCodeAt(index);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
  if (c >= 0x3040 && c <= 0x9fff) return false; // kana and CJK ideographs: the common non-ASCII case
  const ch = text[index]!;
  return LETTER_OR_DIGIT.test(ch) && !CJK.test(ch);
}
