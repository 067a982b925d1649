import { describe, expect, it } from 'vitest';
import { needsAsciiDigit } from './needs-digit.js';
import { loadRules } from './taxonomy.js';

describe('needsAsciiDigit', () => {
  it('says yes only where every match must hold an ASCII digit', () => {
    const yes = [
      String.raw`\d`,
      '[0-9]{1,3}%',
      '(?<![\\p{L}\\p{N}])[0-9][a-e][0-9]{3}(?![\\p{L}\\p{N}])',
      '[0-35-69]x',
      'ab1',
      '(?:a|b)[1-5]+',
      '(?:a1|b[0-9])',
      '(?<year>\\d{4})',
      'x\\d{2,}?',
    ];
    const no = [
      'abc',
      '[0-9]?%',
      '[0-9]*x',
      '\\d{0,3}x',
      'a|[0-9]',
      '(?:a|[0-9])',
      '(?=\\d)a',
      '(?<=\\d)a',
      '[a-z0-9]',
      '[^0-9]',
      '[.,]',
      '\\p{N}',
      '(a)\\1',
      '(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10',
      '\\u0031',
      '\\x31',
      '[\\-0-9]',
      '(?:\\d)*',
    ];
    for (const src of yes) {
      new RegExp(src, 'u'); // every sample is a valid source
      expect(needsAsciiDigit(src), src).toBe(true);
    }
    for (const src of no) {
      new RegExp(src, 'u');
      expect(needsAsciiDigit(src), src).toBe(false);
    }
  });

  it('agrees with the regex on text without digits: never a match where it says yes', () => {
    const samples = ['tariffs of ten percent duty', 'a b c d', 'x'.repeat(50), '', 'ab', 'abc 关税 %'];
    const sources = [
      ...loadRules().patterns.map((p) => p.regex),
      '[0-9]{1,3}%',
      'ab1',
      '(?:a1|b[0-9])',
      '\\d{0,3}b',
      'a|[0-9]',
    ];
    for (const src of sources) {
      if (!needsAsciiDigit(src)) continue;
      const re = new RegExp(src, 'gu');
      for (const text of samples) expect(re.test(text), `${src} on ${text}`).toBe(false);
    }
  });
});
