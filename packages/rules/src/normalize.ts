/**
 * Text normalization with a map back to the original string.
 *
 * Matching runs on a folded copy of each field: NFKC (full-width → half-width, ligatures, compatibility
 * forms), lower case, combining marks stripped (so "Ausfuhrbeschränkung" and "ausfuhrbeschrankung" meet),
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

/** Folds one character (code point) to its matching form; `''` drops it (a lone combining mark). */
export function foldChar(ch: string, charMap: ReadonlyMap<string, string>): string {
  let s = ch.normalize('NFKC').toLowerCase().normalize('NFD').replace(MARKS, '');
  if (s.length === 0) return s;
  if (SPACE_LIKE.test(s)) return ' ';
  let out = '';
  for (const c of s) out += QUOTES[c] ?? charMap.get(c) ?? c;
  s = out;
  return s;
}

/**
 * Builds a normalizer for one character map. Non-ASCII characters are folded once and memoized:
 * `String.prototype.normalize` per character would otherwise dominate the classifier's cost.
 */
export function createNormalizer(charMap: ReadonlyMap<string, string> = new Map()): Normalizer {
  const memo = new Map<number, string>();
  const foldCode = (cp: number): string => {
    let s = memo.get(cp);
    if (s === undefined) {
      s = foldChar(String.fromCodePoint(cp), charMap);
      memo.set(cp, s);
    }
    return s;
  };

  return (input: string): NormalizedText => {
    const n = input.length;
    // Folding rarely grows text (ligatures, ㎏): allocate with room and trim at the end.
    let cap = n + 16;
    let starts = new Uint32Array(cap);
    let ends = new Uint32Array(cap);
    const parts: string[] = [];
    let len = 0;
    let lastWasSpace = true; // true at the start, so leading white space is dropped
    const push = (s: string, from: number, to: number): void => {
      if (len + s.length > cap) {
        cap = Math.max(cap * 2, len + s.length + 16);
        const ns = new Uint32Array(cap);
        ns.set(starts.subarray(0, len));
        starts = ns;
        const ne = new Uint32Array(cap);
        ne.set(ends.subarray(0, len));
        ends = ne;
      }
      for (let k = 0; k < s.length; k++) {
        starts[len] = from;
        ends[len] = to;
        len++;
      }
      parts.push(s);
    };

    let i = 0;
    while (i < n) {
      const c = input.charCodeAt(i);
      if (c < 128) {
        // ASCII fast path: the common case for English feeds.
        if (c === 32 || c === 45 || c === 95 || (c >= 9 && c <= 13)) {
          if (!lastWasSpace) {
            push(' ', i, i + 1);
            lastWasSpace = true;
          }
        } else {
          push(String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c), i, i + 1);
          lastWasSpace = false;
        }
        i++;
        continue;
      }
      const cp = input.codePointAt(i) as number;
      const width = cp > 0xffff ? 2 : 1;
      const s = foldCode(cp);
      if (s === ' ') {
        if (!lastWasSpace) {
          push(' ', i, i + width);
          lastWasSpace = true;
        }
      } else if (s.length > 0) {
        push(s, i, i + width);
        lastWasSpace = false;
      }
      i += width;
    }
    // Drop one trailing space so patterns and text agree on "no space at the ends".
    if (len > 0 && lastWasSpace) {
      len--;
      parts.pop();
    }
    return { text: parts.join(''), starts: starts.subarray(0, len), ends: ends.subarray(0, len) };
  };
}

/** Normalizes a pattern or watch term the same way text is normalized (offsets are not needed). */
export function normalizeTerm(term: string, normalize: Normalizer): string {
  return normalize(term).text;
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * A "word" character for boundary checks: letters and digits of scripts that separate words with
 * spaces. CJK scripts (and Hangul, whose particles attach to nouns: 상무부가) never need boundaries.
 */
export function isWordChar(ch: string | undefined): boolean {
  if (ch === undefined || ch === '') return false;
  const c = ch.charCodeAt(0);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
  return LETTER_OR_DIGIT.test(ch) && !CJK.test(ch);
}
