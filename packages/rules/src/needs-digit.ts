/**
 * Whether every match of a regular expression (source of a `u`-flag RegExp) contains an ASCII digit,
 * read conservatively: `false` whenever the source is not plainly of that shape. The engine skips a
 * taxonomy pattern on text without a digit (a third of feed items) only when this says `true`.
 *
 * Counts: `\d`, a class of digits only (`[0-9]`, `[1-5]`, `[0-35-69]`), a literal digit, and groups
 * whose every alternative needs one; each with a quantifier of minimum one or more. Lookarounds,
 * back-references and anything unfamiliar count as needing nothing.
 */
export function needsAsciiDigit(source: string): boolean {
  const parser = { src: source, i: 0, ok: true };
  const result = alternatives(parser);
  return parser.ok && parser.i === source.length && result;
}

interface Parser {
  src: string;
  i: number;
  ok: boolean;
}

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';

/** `a|b|c` up to a closing parenthesis or the end: needs a digit when every alternative does. */
function alternatives(p: Parser): boolean {
  let all = sequence(p);
  while (p.ok && p.src[p.i] === '|') {
    p.i++;
    all = sequence(p) && all;
  }
  return all;
}

/** A run of quantified atoms: needs a digit when one atom that must occur does. */
function sequence(p: Parser): boolean {
  let any = false;
  while (p.ok && p.i < p.src.length && p.src[p.i] !== '|' && p.src[p.i] !== ')') {
    const atomNeeds = atom(p);
    const min = quantifierMin(p);
    if (atomNeeds && min >= 1) any = true;
  }
  return any;
}

/** One atom; returns whether it needs a digit (ignoring its quantifier). */
function atom(p: Parser): boolean {
  const ch = p.src[p.i]!;
  if (ch === '(') {
    p.i++;
    let lookaround = false;
    if (p.src.startsWith('?:', p.i)) p.i += 2;
    else if (p.src.startsWith('?=', p.i) || p.src.startsWith('?!', p.i)) {
      p.i += 2;
      lookaround = true;
    } else if (p.src.startsWith('?<=', p.i) || p.src.startsWith('?<!', p.i)) {
      p.i += 3;
      lookaround = true;
    } else if (p.src.startsWith('?<', p.i)) {
      const close = p.src.indexOf('>', p.i);
      if (close < 0) return fail(p);
      p.i = close + 1;
    } else if (p.src[p.i] === '?') return fail(p);
    const inner = alternatives(p);
    if (p.src[p.i] !== ')') return fail(p);
    p.i++;
    return inner && !lookaround;
  }
  if (ch === '[') return characterClass(p);
  if (ch === '\\') {
    const next = p.src[p.i + 1];
    if (next === undefined) return fail(p);
    if (next === 'p' || next === 'P' || next === 'k') {
      // \p{…}, \P{…}, \k<name>
      const close = p.src.indexOf(next === 'k' ? '>' : '}', p.i);
      if (close < 0) return fail(p);
      p.i = close + 1;
      return false;
    }
    if (next === 'u' && p.src[p.i + 2] === '{') {
      const close = p.src.indexOf('}', p.i);
      if (close < 0) return fail(p);
      p.i = close + 1;
      return false;
    }
    if (next === 'u') {
      p.i += 6;
      return false;
    }
    if (next === 'x') {
      p.i += 4;
      return false;
    }
    if (next === 'c') {
      p.i += 3;
      return false;
    }
    if (isDigit(next)) {
      // A back-reference (\1, \12) or \0: digits of the escape, not of the text.
      p.i += 2;
      while (isDigit(p.src[p.i])) p.i++;
      return false;
    }
    p.i += 2;
    return next === 'd';
  }
  if (ch === '*' || ch === '+' || ch === '?' || ch === '{' || ch === ')' || ch === ']' || ch === '}') {
    return fail(p); // a quantifier with nothing to repeat: not a source this reader knows
  }
  p.i++;
  return isDigit(ch);
}

/** `[…]`: needs a digit when it is not negated and holds only digits and digit ranges (or `\d`). */
function characterClass(p: Parser): boolean {
  p.i++; // [
  let onlyDigits = p.src[p.i] !== '^';
  if (!onlyDigits) p.i++;
  let empty = true;
  while (p.i < p.src.length && p.src[p.i] !== ']') {
    empty = false;
    const ch = p.src[p.i]!;
    if (ch === '\\') {
      const next = p.src[p.i + 1];
      if (next === 'p' || next === 'P' || (next === 'u' && p.src[p.i + 2] === '{')) {
        const close = p.src.indexOf('}', p.i);
        if (close < 0) return fail(p);
        p.i = close + 1;
        onlyDigits = false;
      } else {
        if (next !== 'd') onlyDigits = false;
        p.i += next === 'u' ? 6 : next === 'x' ? 4 : next === 'c' ? 3 : 2;
      }
      continue;
    }
    if (!isDigit(ch)) onlyDigits = false;
    else if (p.src[p.i + 1] === '-' && p.src[p.i + 2] !== ']') {
      if (!isDigit(p.src[p.i + 2])) onlyDigits = false;
      p.i += 3;
      continue;
    }
    p.i++;
  }
  if (p.src[p.i] !== ']') return fail(p);
  p.i++;
  return onlyDigits && !empty;
}

/** The minimum count of the quantifier at the cursor (1 without one); consumes it and a lazy `?`. */
function quantifierMin(p: Parser): number {
  const ch = p.src[p.i];
  let min = 1;
  if (ch === '*' || ch === '?') {
    min = 0;
    p.i++;
  } else if (ch === '+') p.i++;
  else if (ch === '{') {
    const m = /^\{(\d+)(?:,(\d*))?\}/.exec(p.src.slice(p.i));
    if (m === null) {
      fail(p);
      return 0;
    }
    min = Number(m[1]);
    p.i += m[0].length;
  } else return 1;
  if (p.src[p.i] === '?') p.i++;
  return min;
}

function fail(p: Parser): false {
  p.ok = false;
  p.i = p.src.length;
  return false;
}
