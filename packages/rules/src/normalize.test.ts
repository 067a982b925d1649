import { describe, expect, it } from 'vitest';
import { createFolder, createNormalizer, isWordChar, ScratchNormalizer } from './normalize.js';

describe('createNormalizer', () => {
  const normalize = createNormalizer(new Map([['關', '关']]));

  it('folds case, accents, full width and dashes, and collapses space', () => {
    expect(normalize('  ＥＸＰＯＲＴ\u3000Ｃｏｎｔｒｏｌｓ ').text).toBe('export controls');
    expect(normalize('Ausfuhrbeschränkung').text).toBe('ausfuhrbeschrankung');
    expect(normalize('anti—dumping  \t duties').text).toBe('anti dumping duties');
    expect(normalize('China’s “curbs”').text).toBe('china\'s "curbs"');
    expect(normalize('海關').text).toBe('海关');
  });

  it('maps every folded character back to its original range', () => {
    const original = 'Ｃａｆé — 海關 𝐇𝟐𝟎 chips';
    const n = normalize(original);
    expect(n.text).toBe('cafe 海关 h20 chips');
    for (let i = 0; i < n.text.length; i++) {
      const slice = original.slice(n.starts[i]!, n.ends[i]!);
      expect(slice.length).toBeGreaterThan(0);
    }
    const at = n.text.indexOf('h20');
    expect(original.slice(n.starts[at]!, n.ends[at + 2]!)).toBe('𝐇𝟐𝟎');
    const cafe = n.text.indexOf('cafe');
    expect(original.slice(n.starts[cafe]!, n.ends[cafe + 3]!)).toBe('Ｃａｆé');
  });

  it('drops combining marks of decomposed input', () => {
    expect(normalize('Zo\u0308lle').text).toBe('zolle');
  });

  it('keeps the vowel signs of Hindi and Malayalam, which tell words apart', () => {
    // Stripped, തീരുവ (duty) was a prefix of തിരുവോണം (Onam) and प्रतिबंधों (sanctions) equalled प्रतिबंध (ban).
    expect(normalize('തീരുവ').text).not.toBe(normalize('തിരുവ').text);
    expect(normalize('प्रतिबंधों').text).not.toBe(normalize('प्रतिबंध').text);
    expect(normalize('ലാപ്\u200cടോപ്പ്').text).toBe('ലാപ്ടോപ്പ്');
    expect(isWordChar('\u093f')).toBe(true); // a Devanagari vowel sign sits inside a word
  });

  it('knows which characters take word boundaries', () => {
    expect(isWordChar('a')).toBe(true);
    expect(isWordChar('ł')).toBe(true);
    expect(isWordChar('关')).toBe(false);
    expect(isWordChar('수')).toBe(false);
    expect(isWordChar(' ')).toBe(false);
    expect(isWordChar(undefined)).toBe(false);
  });
});

describe('ScratchNormalizer', () => {
  const charMap = new Map([['關', '关']]);
  const normalize = createNormalizer(charMap);

  it('gives what createNormalizer gives, run after run on its reused buffers', () => {
    const scratch = new ScratchNormalizer(createFolder(charMap));
    const inputs = [
      'US tightens export-controls on AI chips',
      `${'ﬃ㎏ '.repeat(400)}Ｈ２０ 海關 (Zölle)`, // folds that grow the text past the first buffers
      'short',
      '  Café — 海關 𝐇𝟐𝟎 ',
      '',
      'ß ø æ: one byte per unit, but not ASCII',
      `海關 then ASCII in 16-bit mode, and folds that grow it: ${'ﬃ'.repeat(1500)} 𝐇𝟐𝟎`,
      'Zölle — mixed — 関税 — back to ASCII',
    ];
    for (const input of inputs) {
      const expected = normalize(input);
      const got = scratch.run(input);
      expect(got.text).toBe(expected.text);
      expect(got.starts.length).toBeGreaterThanOrEqual(got.text.length);
      expect(Array.from(got.starts.subarray(0, got.text.length))).toEqual(Array.from(expected.starts));
      expect(Array.from(got.text, (_, i) => got.endOf(i))).toEqual(Array.from(expected.ends));
    }
  });

  it('tells whether the folded text holds an ASCII digit', () => {
    const scratch = new ScratchNormalizer(createFolder());
    expect(scratch.run('no digits here').hasDigit).toBe(false);
    expect(scratch.run('25% tariffs').hasDigit).toBe(true);
    expect(scratch.run('ＨＳ８５４２').hasDigit).toBe(true); // full-width digits fold to ASCII
    expect(scratch.run('٣ Arabic-Indic').hasDigit).toBe(false);
  });
});
