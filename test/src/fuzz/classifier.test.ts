import { ClassificationSchema } from '@regwatch/contracts';
import { createRulesHolder } from '@regwatch/rules';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Property tests for the classifier on hostile text: any unicode within the schema limits
// (title ≤ 2 000, summary ≤ 20 000 UTF-16 units) classifies without throwing, and every piece of
// evidence points at exactly the text it quotes — emails and webhooks highlight by those offsets.
const SEED = 0xc1a55;
const engine = createRulesHolder().engine;

const WORDS = [
  'export controls',
  'Entity List',
  'BIS',
  'NVIDIA H20',
  'customs',
  'seized',
  'sanctions',
  '出口管制',
  '海关',
  '実体リスト',
  'Ｅｎｔｉｔｙ　Ｌｉｓｔ',
  'ＮＶＩＤＩＡ',
  'e\u0301xport',
  'cafe\u0301',
  'İstanbul',
  'ß',
  'ﬁ',
  '\u200d',
  '\u0301\u0301',
  '🇨🇳',
  '👩🏽‍💻',
  'निर्यात',
  'കയറ്റുമതി',
  'экспортный контроль',
  '\uD800',
  '\uDC00',
  'Huawei',
  'ASML',
];
const piece = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ maxLength: 10 }),
);
const text = (max: number) =>
  fc
    .tuple(fc.array(piece, { maxLength: 40 }), fc.constantFrom(' ', '', '\u3000'))
    .map(([parts, sep]) => parts.join(sep).slice(0, max));

function check(title: string, summary: string, watchTerms?: string[]): void {
  const c = engine.classify({ title, summary }, watchTerms ? { watchTerms } : undefined);
  const r = ClassificationSchema.safeParse(c);
  if (!r.success) throw new Error(`not a valid Classification: ${r.error.message}`);
  for (const e of c.evidence) {
    const field = e.field === 'title' ? title : summary;
    expect(e.start).toBeLessThanOrEqual(e.end);
    expect(e.end).toBeLessThanOrEqual(field.length);
    expect(field.slice(e.start, e.end)).toBe(e.text);
  }
}

describe('classifier (property)', () => {
  it('random unicode titles and summaries classify with exact evidence offsets', () => {
    let flagged = 0;
    fc.assert(
      fc.property(
        text(2000),
        text(20_000),
        fc.option(fc.array(fc.constantFrom(...WORDS, 'acme corp'), { maxLength: 3 })),
        (t, s, w) => {
          check(t, s, w?.filter((x) => x.length >= 2) ?? undefined);
          if (engine.classify({ title: t, summary: s }).flagged) flagged++;
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
    // The generator must hit the rules sometimes, or the offset property is vacuous.
    expect(flagged).toBeGreaterThan(0);
  });

  it('inputs at the schema limits (full-width, combining marks, CJK)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WORDS), fc.constantFrom('\u0301', 'Ａ', '中', ' ', 'a'), (word, filler) => {
        const summary =
          `${word} `.repeat(Math.ceil(20_000 / (word.length + 1))).slice(0, 20_000 - filler.length) + filler;
        const title = (filler.repeat(1000) + word).slice(-2000);
        check(title, summary);
      }),
      { seed: SEED + 1, numRuns: 30 },
    );
  });
});
