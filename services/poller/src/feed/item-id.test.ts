import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { itemId, sha256Hex } from './item-id.js';

describe('sha256Hex()', () => {
  it('is the hex SHA-256 of the UTF-8 text, as a Hash object gives it', () => {
    for (const text of ['', 'abc', 'f\u0000guid\u0000bench-1', 'été 中文 \u{1f600}', 'x'.repeat(5000)]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    }
  });
});

describe('itemId()', () => {
  it('is short, prefixed and safe as a BullMQ job id', () => {
    const id = itemId({ guid: 'abc', feedId: 'f' });
    expect(id).toMatch(/^i[0-9a-f]{24}$/);
    expect(id).not.toContain(':');
  });

  it('keeps the ids of items already remembered: the first 24 hex of SHA-256(feed, kind, key)', () => {
    const digest = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 24);
    expect(itemId({ guid: 'abc', feedId: 'f' })).toBe(`i${digest('f\u0000guid\u0000abc')}`);
    expect(itemId({ link: 'https://a.example/1', fragment: 'n2', feedId: 'f' })).toBe(
      `i${digest('f\u0000link\u0000https://a.example/1#n2')}`,
    );
  });

  it('is stable for the same input', () => {
    expect(itemId({ guid: 'abc', feedId: 'f' })).toBe(itemId({ guid: ' abc ', feedId: 'f' }));
  });

  it('prefers the guid over link and title', () => {
    const a = itemId({ guid: 'g1', link: 'https://a.example/1', title: 'T', feedId: 'f' });
    const b = itemId({ guid: 'g1', link: 'https://a.example/2', title: 'Other', feedId: 'f' });
    expect(a).toBe(b);
  });

  it('uses the canonical link when there is no guid', () => {
    const a = itemId({ link: 'https://A.example/1?utm_source=x#frag', feedId: 'f' });
    const b = itemId({ link: 'https://a.example/1', title: 'different title', feedId: 'f' });
    expect(a).toBe(b);
    expect(a).not.toBe(itemId({ link: 'https://a.example/2', feedId: 'f' }));
  });

  it('tells guid-less entries of one page apart by the fragment it is given', () => {
    const page = 'https://a.example/notices';
    const one = itemId({ link: page, fragment: 'n1', feedId: 'f' });
    expect(one).not.toBe(itemId({ link: page, fragment: 'n2', feedId: 'f' }));
    expect(one).not.toBe(itemId({ link: page, feedId: 'f' }));
    // A guid still wins: the fragment only matters when the link is the identity.
    expect(itemId({ guid: 'g', link: page, fragment: 'n1', feedId: 'f' })).toBe(itemId({ guid: 'g', feedId: 'f' }));
  });

  it('falls back to title plus date', () => {
    const a = itemId({ title: 'Tariff  notice', date: 'Mon, 04 Aug 2025', feedId: 'f' });
    expect(a).toBe(itemId({ title: 'Tariff notice', date: 'Mon, 04 Aug 2025', feedId: 'f' }));
    expect(a).not.toBe(itemId({ title: 'Tariff notice', date: 'Tue, 05 Aug 2025', feedId: 'f' }));
  });

  it('differs between feeds and between kinds of identity', () => {
    expect(itemId({ guid: '1', feedId: 'a' })).not.toBe(itemId({ guid: '1', feedId: 'b' }));
    expect(itemId({ guid: 'https://a.example/1', feedId: 'f' })).not.toBe(
      itemId({ link: 'https://a.example/1', feedId: 'f' }),
    );
  });
});
