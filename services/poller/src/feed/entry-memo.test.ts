import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ParsedEntries, parseFeedEntries } from './parse-feed.js';

const FIXTURES = join(import.meta.dirname, '__fixtures__');
const FETCHED_AT = new Date('2025-08-06T00:00:00.000Z');

const parse = (body: string | Buffer, memo?: string, baseUrl = 'https://feeds.example.com/feed.xml') =>
  parseFeedEntries(typeof body === 'string' ? Buffer.from(body) : body, {
    feedId: 'test-feed',
    baseUrl,
    fetchedAt: FETCHED_AT,
    ...(memo !== undefined ? { memo } : {}),
  });

/** What the poller's decision reads of each entry. */
const identities = (p: ParsedEntries) => p.entries.map((e) => [e.id, e.url, e.fragment]);
const rememberedIds = (p: ParsedEntries) => p.entries.filter((e) => e.remembered).map((e) => e.id);

const item = (n: number, extra = '') =>
  `<item><title>Story ${n}</title><link>https://site.example/news/${n}?utm_source=rss</link><guid isPermaLink="false">g-${n}</guid><description>Text ${n} &amp; more${extra}</description></item>`;
const rss = (items: string, link = 'https://site.example/') =>
  `<?xml version="1.0"?>\n<rss version="2.0"><channel><title>T</title><link>${link}</link><lastBuildDate>${Math.random()}</lastBuildDate>\n${items}\n</channel></rss>`;

describe('parsing with the entry memo', () => {
  it.each([
    ['rss2-export-controls.xml', 'https://feeds.example.com/trade.rss'],
    ['atom-sanctions.atom', 'https://watch.example.net/atom.xml'],
    ['rdf-customs.rdf', 'https://customs.example.org/rss.rdf'],
  ])('%s: the same document again gives the same entries, its keyed ones from the memo', async (file, baseUrl) => {
    const body = readFileSync(join(FIXTURES, file));
    const first = await parse(body, undefined, baseUrl);
    const again = await parse(body, first.memo, baseUrl);
    expect(identities(again)).toEqual(identities(first));
    expect(rememberedIds(again)).toEqual(first.entries.filter((e) => e.keyed).map((e) => e.id));
    expect(rememberedIds(again).length).toBeGreaterThan(0);
    expect(again.memo).toBe(first.memo);
    expect({ ...again, entries: [], memo: '' }).toEqual({ ...first, entries: [], memo: '' });
  });

  it('parses the new and the changed elements, takes the rest from the memo, and decides as a full parse', async () => {
    const before = await parse(rss([item(3), item(2), item(1)].join('\n')));
    const next = rss([item(5), item(4), item(3), item(2, ' (updated)'), item(1)].join('\n'));
    const withMemo = await parse(next, before.memo);
    const full = await parse(next);
    expect(identities(withMemo)).toEqual(identities(full));
    expect(rememberedIds(withMemo)).toEqual([full.entries[2]!.id, full.entries[4]!.id]);
    // The parsed ones are whole items; a remembered one has no item to give.
    expect(withMemo.entries.slice(0, 2).map((e) => e.item().title)).toEqual(['Story 5', 'Story 4']);
    expect(withMemo.entries[3]!.item().summary).toBe('Text 2 & more (updated)');
    expect(() => withMemo.entries[2]!.item()).toThrow(/not parsed/);
    // The next memo covers every element of this document.
    const third = await parse(next, withMemo.memo);
    expect(rememberedIds(third)).toEqual(full.entries.map((e) => e.id));
  });

  it('keeps the first of a repeated id in document order, whichever of the two was remembered', async () => {
    const before = await parse(rss(item(1)));
    const next = rss([item(2), item(1), item(1, ' again')].join('\n'));
    const withMemo = await parse(next, before.memo);
    expect(identities(withMemo)).toEqual(identities(await parse(next)));
    expect(withMemo.entries.map((e) => Boolean(e.remembered))).toEqual([false, true]);
  });

  it('parses everything when the channel’s base URL (part of every link) changed since the memo', async () => {
    const before = await parse(rss([item(2), item(1)].join('\n')));
    const moved = rss([item(2), item(1)].join('\n'), 'https://elsewhere.example/');
    const withMemo = await parse(moved, before.memo);
    expect(rememberedIds(withMemo)).toEqual([]);
    expect(identities(withMemo)).toEqual(identities(await parse(moved)));
  });

  it('never remembers an entry identified by title and date (its date is judged against the fetch time)', async () => {
    const untitled = '<item><title>No link</title><pubDate>Mon, 04 Aug 2025 08:00:00 GMT</pubDate></item>';
    const doc = rss([item(1), untitled].join('\n'));
    const first = await parse(doc);
    const again = await parse(doc, first.memo);
    expect(again.entries.map((e) => Boolean(e.remembered))).toEqual([true, false]);
    expect(identities(again)).toEqual(identities(first));
  });

  it('ignores a memo it cannot read, and one of another layout', async () => {
    const doc = rss([item(2), item(1)].join('\n'));
    const full = await parse(doc);
    for (const memo of ['{', '[]', '{"v":2,"c":"","e":[]}', '{"v":1,"c":"x","e":[[1,2]]}']) {
      const p = await parse(doc, memo);
      expect(rememberedIds(p)).toEqual([]);
      expect(identities(p)).toEqual(identities(full));
    }
  });

  it('gives no memo where the scanner does not follow the layout, and parses as before', async () => {
    const twoChannels = `<rss><channel><title>A</title>${item(1)}</channel><channel><title>B</title>${item(2)}</channel></rss>`;
    const p = await parse(twoChannels);
    expect(p.memo).toBeUndefined();
    expect(identities(p)).toHaveLength(1);
  });

  it('stops remembering at MAX_REMEMBERED_ENTRIES elements', async () => {
    const doc = rss(Array.from({ length: 230 }, (_, n) => item(230 - n)).join('\n'));
    const first = await parse(doc);
    const again = await parse(doc, first.memo);
    expect(rememberedIds(again)).toHaveLength(200);
    expect(identities(again)).toEqual(identities(first));
  });
});
