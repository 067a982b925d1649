import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FeedItemSchema } from '@regwatch/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeDocument } from './decode-text.js';
import { parseJsonFeed } from './json-feed.js';
import { type NormalizeContext, normalizeItemWithFragment, toFeedEntry } from './normalize-item.js';
import type { RawItem } from './raw-feed.js';
import { parseXmlFeed } from './xml-feed.js';

const CTX: NormalizeContext = {
  feedId: 'test-feed',
  baseUrl: 'https://site.example/news/',
  fetchedAt: new Date('2025-08-06T00:00:00.000Z'),
};

const raw = (fields: Partial<RawItem>): RawItem => ({ dates: [], categories: [], ...fields });

/**
 * The entry of `item` must say what full normalization says, byte for byte: the same id, URL and
 * fragment (what the poller's dedupe reads), the same FeedItem JSON, or nothing for both.
 */
function expectSameAsEager(item: RawItem, ctx: NormalizeContext, label: string): void {
  const eager = normalizeItemWithFragment(item, ctx);
  const entry = toFeedEntry(item, ctx);
  if (eager === undefined) {
    expect(entry, label).toBeUndefined();
    return;
  }
  expect(entry, label).toBeDefined();
  expect({ id: entry!.id, url: entry!.url, fragment: entry!.fragment }, label).toEqual({
    id: eager.item.id,
    url: eager.item.url,
    fragment: eager.fragment,
  });
  expect(JSON.stringify(entry!.item()), label).toBe(JSON.stringify(eager.item));
}

describe('toFeedEntry()', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each<[string, Partial<RawItem>]>([
    ['guid and link', { guid: 'g-1', link: '/a?utm_source=x', title: 'T', summaryHtml: '<p>S</p>' }],
    ['a permalink guid standing in for the link', { guid: ' https://site.example/p#n2 ', title: 'T' }],
    ['a guid marked isPermaLink="false"', { guid: 'https://site.example/p', guidIsPermaLink: false, title: 'T' }],
    ['a link with a fragment that names a place', { link: 'notices.html#n7', title: 'Notice 7' }],
    ['a link with a tracking fragment', { link: 'https://site.example/a#xtor=RSS-1', title: 'A' }],
    ['a link only, no title or text', { link: 'https://site.example/bare' }],
    ['a mailto link and a title', { link: 'mailto:desk@site.example', title: 'Write to us' }],
    ['a mailto link and nothing else', { link: 'mailto:desk@site.example' }],
    ['title and date only', { title: ' Tariff  notice ', dates: ['garbage', 'Mon, 04 Aug 2025 10:00:00 GMT'] }],
    ['text only: the title comes from the summary', { contentText: '  Only   a text body. ' }],
    ['whitespace guid and link, and a title', { guid: '  ', link: ' ', title: 'Just a title' }],
    ['nothing to identify or show', { author: 'Nobody', categories: ['x'] }],
    ['a guid longer than the schema keeps', { guid: 'g'.repeat(3000), title: 'Long guid' }],
    [
      'everything',
      {
        guid: 'g-2',
        link: 'https://Site.example/b?id=1&fbclid=2',
        title: 'Caf&eacute; &amp; <b>bar</b>',
        summaryHtml: 'Summary <a href="/x">x</a>',
        contentHtml: '<p>Body <img src="i.png"></p>',
        dates: ['2025-08-05T07:15:00+02:00'],
        author: 'jane@site.example (Jane)',
        categories: ['Trade', '<i>Trade</i>', ''],
        lang: 'en_GB',
      },
    ],
  ])('matches full normalization: %s', (label, fields) => {
    expectSameAsEager(raw(fields), CTX, label);
    expectSameAsEager(raw(fields), { ...CTX, lang: 'fr' }, `${label} (lang hint)`);
  });

  it('leaves the normalization and its schema check to item(), done once', () => {
    const parse = vi.spyOn(FeedItemSchema, 'parse');
    const entry = toFeedEntry(raw({ guid: 'g-1', link: '/a', title: 'T' }), CTX)!;
    expect(entry.id).toMatch(/^i[0-9a-f]{24}$/);
    expect(entry.url).toBe('https://site.example/a');
    expect(parse).not.toHaveBeenCalled();
    const item = entry.item();
    expect(entry.item()).toBe(item);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('normalizes at once an entry identified by title and date: only that tells its id', () => {
    const parse = vi.spyOn(FeedItemSchema, 'parse');
    const entry = toFeedEntry(raw({ title: 'Tariff notice', dates: ['Mon, 04 Aug 2025 10:00:00 GMT'] }), CTX)!;
    expect(parse).toHaveBeenCalledTimes(1);
    expect(entry.item().title).toBe('Tariff notice');
    expect(parse).toHaveBeenCalledTimes(1);
  });
});

// Every item of the golden fixtures and of the shared real-world documents (when present; see
// shared-fixtures.test.ts), through both paths.
const REPO_ROOT = resolve(import.meta.dirname, '../../../..');
const SHARED = resolve(REPO_ROOT, process.env['REGWATCH_FEED_FIXTURES'] || '../shared/fixtures/feeds');
const LOCAL = join(import.meta.dirname, '__fixtures__');
const documents = [
  ...readdirSync(LOCAL)
    .filter((f) => /\.(xml|atom|rdf|json)$/.test(f))
    .map((f) => join(LOCAL, f)),
  ...(existsSync(SHARED)
    ? readdirSync(SHARED)
        .filter((f) => !f.startsWith('.') && f !== 'MANIFEST.md')
        .map((f) => join(SHARED, f))
    : []),
];

describe('toFeedEntry() on real documents', () => {
  it.each(documents)('matches full normalization for every item of %s', async (path) => {
    const { text } = decodeDocument(readFileSync(path), undefined, path.endsWith('.json'));
    let items: RawItem[];
    try {
      items = path.endsWith('.json') ? parseJsonFeed(text.trimStart()).items : (await parseXmlFeed(text)).items;
    } catch {
      return; // a document that is no feed (see shared-fixtures.test.ts) has no items to compare
    }
    for (const [i, item] of items.entries()) {
      expectSameAsEager(item, { ...CTX, baseUrl: 'https://fixtures.example/feed' }, `${path} item ${i}`);
    }
  });
});
