import { describe, expect, it } from 'vitest';
import { AhoCorasick } from './aho-corasick.js';

/** Every occurrence by brute force: the oracle the automaton must agree with. */
function naive(patterns: readonly string[], text: string): string[] {
  const found: string[] = [];
  patterns.forEach((p, i) => {
    if (p.length === 0) return;
    for (let s = text.indexOf(p); s !== -1; s = text.indexOf(p, s + 1)) found.push(`${i}@${s}-${s + p.length}`);
  });
  return found.sort();
}

function viaAutomaton(patterns: readonly string[], text: string): string[] {
  return new AhoCorasick(patterns)
    .findAll(text)
    .map((m) => `${m.pattern}@${m.start}-${m.end}`)
    .sort();
}

/** A small deterministic PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomString(next: () => number, alphabet: string[], maxLen: number): string {
  const len = Math.floor(next() * maxLen);
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(next() * alphabet.length)];
  return s;
}

describe('AhoCorasick', () => {
  it('finds overlapping and nested occurrences', () => {
    const patterns = ['he', 'she', 'his', 'hers', 'e'];
    expect(viaAutomaton(patterns, 'ushers')).toEqual(naive(patterns, 'ushers'));
    expect(viaAutomaton(patterns, 'ushers')).toContain('3@2-6');
  });

  it('handles duplicate and empty patterns', () => {
    expect(viaAutomaton(['ab', 'ab', ''], 'abab')).toEqual(['0@0-2', '0@2-4', '1@0-2', '1@2-4']);
    expect(new AhoCorasick([]).findAll('anything')).toEqual([]);
  });

  it('matches CJK, Hangul and astral characters', () => {
    const patterns = ['出口管制', '管制', '수출 통제', '🚢货', '海关'];
    const text = '美国加强出口管制；수출 통제 강화；🚢货物在海关被查';
    expect(viaAutomaton(patterns, text)).toEqual(naive(patterns, text));
  });

  it('agrees with a naive search on random strings (ASCII, mixed scripts)', () => {
    const next = rng(20_251_129);
    const alphabets = [
      ['a', 'b', 'c'],
      ['a', 'b', ' ', 'x', 'y', 'z', '.'],
      ['a', '关', '税', '出', '口', 'b', '수', '출', '😀'],
    ];
    for (let round = 0; round < 300; round++) {
      const alphabet = alphabets[round % alphabets.length]!;
      const patterns = Array.from({ length: 1 + Math.floor(next() * 25) }, () => randomString(next, alphabet, 6));
      const text = randomString(next, alphabet, 200);
      expect(viaAutomaton(patterns, text), `round ${round}`).toEqual(naive(patterns, text));
    }
  });

  it('agrees with a naive search past 65,535 states (32-bit transition table)', () => {
    const next = rng(65_536);
    const alphabet = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    // 9,000 random 12-letter patterns share few prefixes: well over 65,535 trie states.
    const patterns = Array.from({ length: 9000 }, () => {
      let s = '';
      for (let i = 0; i < 12; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      return s;
    });
    expect(new AhoCorasick(patterns).size).toBeGreaterThan(0xffff);
    const text = patterns.slice(0, 200).join('x') + patterns.slice(4000, 4100).join('');
    expect(viaAutomaton(patterns, text)).toEqual(naive(patterns, text));
  });

  it('agrees with a naive search with thousands of CJK patterns (wide edges, long failure chains)', () => {
    const next = rng(4_096);
    // A small alphabet of wide code units (and one surrogate pair) shared by many patterns: deep
    // failure chains through states with wide edges, and a crowded wide-edge table.
    const alphabet = ['关', '税', '出', '口', '管', '制', '海', '수', '출', '😀', 'a', ' '];
    const patterns = Array.from({ length: 3000 }, () => randomString(next, alphabet, 9));
    const ac = new AhoCorasick(patterns);
    for (let round = 0; round < 20; round++) {
      const text = `${randomString(next, alphabet, 400)}未知字${randomString(next, alphabet, 100)}`;
      const found = ac
        .findAll(text)
        .map((m) => `${m.pattern}@${m.start}-${m.end}`)
        .sort();
      expect(found, `round ${round}`).toEqual(naive(patterns, text));
    }
  });

  it('skips in-word occurrences when boundaries are asked for', () => {
    const ac = new AhoCorasick(['us', 'eu']);
    const found: string[] = [];
    const isWord = (t: string, i: number) => /[a-z]/.test(t[i]!);
    ac.scan(
      'business in the us and eu, neutral',
      (p, s, e) => found.push(`${p}@${s}-${e}`),
      Uint8Array.of(3, 3),
      isWord,
    );
    expect(found).toEqual(['0@16-18', '1@23-25']);
  });
});
