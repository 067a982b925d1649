import type { Evidence } from '@regwatch/contracts';

// Printable ASCII plus space: words from the tokenizer never hold control characters.
const ASCII_RE = /^[ -~]*$/;

/**
 * Folding used for every case-insensitive comparison in routing: compatibility decomposition,
 * combining marks dropped, lower case. `Société Générale` and `SOCIETE GENERALE` fold alike.
 */
export function foldText(s: string): string {
  // Most words are ASCII; skip the Unicode normalisation for them (it dominates the cost of a match).
  if (ASCII_RE.test(s)) return s.toLowerCase();
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

// Han and kana are written without spaces, so each of their characters is a token of its own and a
// term like 华为 becomes the token sequence 华 为. Every other run of letters, digits and marks is a word.
const TOKEN_RE =
  /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]|(?:(?![\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}])[\p{L}\p{N}\p{M}])+/gu;

/** One word of a text, with its UTF-16 offsets in the original string. */
export interface Token {
  key: string;
  start: number;
  end: number;
}

/** Splits a text into folded word tokens; punctuation and spaces separate words and are dropped. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(TOKEN_RE)) {
    const start = m.index;
    out.push({ key: foldText(m[0]), start, end: start + m[0].length });
  }
  return out;
}

/** The token sequence a watch term must appear as, or null when it has no letters or digits. */
export function termKeys(term: string): string[] | null {
  const keys = tokenize(term)
    .map((t) => t.key)
    .filter((k) => k !== '');
  return keys.length > 0 ? keys : null;
}

interface TermEntry {
  /** Tokens after the first one. */
  rest: string[];
  /** Index into the matcher's term list. */
  termId: number;
}

/** Where a watch term was found. Offsets are into the alert's original title or summary. */
export interface TermHit {
  termId: number;
  field: 'title' | 'summary';
  start: number;
  end: number;
  text: string;
}

/**
 * Finds many watch terms in one pass over a text: terms are indexed by their first token, so the
 * cost is one map lookup per word of the text whatever the number of terms. Terms match whole
 * words only (`Acme` does not match `Acmeology`), case- and accent-insensitively.
 */
export class TermMatcher {
  private readonly byFirst = new Map<string, TermEntry[]>();
  private readonly ids = new Map<string, number>();
  /** Folded key of each term id, words joined by one space. */
  readonly keys: string[] = [];

  /** Adds a term and returns its id (the same id for terms that fold to the same words), or null if it cannot match. */
  add(term: string): number | null {
    const keys = termKeys(term);
    if (keys === null) return null;
    const joined = keys.join(' ');
    const known = this.ids.get(joined);
    if (known !== undefined) return known;
    const termId = this.keys.length;
    this.keys.push(joined);
    this.ids.set(joined, termId);
    const [first, ...rest] = keys as [string, ...string[]];
    const list = this.byFirst.get(first);
    if (list) list.push({ rest, termId });
    else this.byFirst.set(first, [{ rest, termId }]);
    return termId;
  }

  get size(): number {
    return this.keys.length;
  }

  /** Every occurrence of every term in the field's text. */
  find(field: 'title' | 'summary', text: string, out: TermHit[] = []): TermHit[] {
    if (this.byFirst.size === 0 || text === '') return out;
    const tokens = tokenize(text);
    for (let i = 0; i < tokens.length; i++) {
      const entries = this.byFirst.get(tokens[i]!.key);
      if (!entries) continue;
      for (const e of entries) {
        if (i + e.rest.length >= tokens.length) continue;
        let ok = true;
        for (let j = 0; j < e.rest.length; j++) {
          if (tokens[i + 1 + j]!.key !== e.rest[j]) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        const start = tokens[i]!.start;
        const end = tokens[i + e.rest.length]!.end;
        out.push({ termId: e.termId, field, start, end, text: text.slice(start, end) });
      }
    }
    return out;
  }
}

/** Evidence of kind `watch` for a hit, in the shape classifier evidence has, so renderers treat both alike. */
export function watchEvidence(hit: TermHit, term: string): Evidence {
  return {
    field: hit.field,
    start: hit.start,
    end: hit.end,
    text: hit.text,
    rule: `watch:${term}`,
    kind: 'watch',
    target: term,
    weight: 0,
  };
}
