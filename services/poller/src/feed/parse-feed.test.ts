import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FeedItemSchema, PermanentError } from '@regwatch/contracts';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ParsedFeed, parseFeed, parseFeedEntries } from './parse-feed.js';

const FIXTURES = join(import.meta.dirname, '__fixtures__');
const FETCHED_AT = new Date('2025-08-06T00:00:00.000Z');
/** Set REGWATCH_UPDATE_GOLDEN=1 to rewrite the expected JSON after a deliberate change. */
const UPDATE_GOLDEN = process.env['REGWATCH_UPDATE_GOLDEN'] === '1';

function parse(body: Buffer | string, extra: { contentType?: string; baseUrl?: string; lang?: string } = {}) {
  return parseFeed(typeof body === 'string' ? Buffer.from(body) : body, {
    feedId: 'test-feed',
    baseUrl: extra.baseUrl ?? 'https://feeds.example.com/feed.xml',
    fetchedAt: FETCHED_AT,
    ...(extra.contentType ? { contentType: extra.contentType } : {}),
    ...(extra.lang ? { lang: extra.lang } : {}),
  });
}

async function parseError(body: Buffer | string, contentType?: string): Promise<PermanentError> {
  const err = await parse(body, contentType ? { contentType } : {}).then(
    () => {
      throw new Error('expected parseFeed to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PermanentError);
  expect((err as PermanentError).code).toBe('FEED_PARSE');
  return err as PermanentError;
}

const rss = (items: string, channelExtra = '') =>
  `<rss version="2.0"><channel><title>T</title><link>https://site.example/</link>${channelExtra}${items}</channel></rss>`;

const GOLDEN_CASES: Array<[file: string, baseUrl: string, contentType?: string]> = [
  ['rss2-export-controls.xml', 'https://feeds.example.com/trade.rss'],
  ['atom-sanctions.atom', 'https://watch.example.net/atom.xml'],
  ['rdf-customs.rdf', 'http://customs.example.org/rss'],
  ['jsonfeed-tariffs.json', 'https://tariffs.example.com/feed.json', 'application/feed+json'],
  ['rss-in-json.json', 'http://scripting.example.com/rss.json'],
];

describe('golden files', () => {
  it.each(GOLDEN_CASES)('%s matches its golden JSON, byte for byte', async (file, baseUrl, contentType) => {
    const feed = await parse(readFileSync(join(FIXTURES, file)), { baseUrl, ...(contentType ? { contentType } : {}) });
    for (const item of feed.items) expect(FeedItemSchema.parse(item)).toEqual(item);
    const goldenPath = join(FIXTURES, `${file}.golden.json`);
    if (UPDATE_GOLDEN) writeFileSync(goldenPath, `${JSON.stringify(feed, null, 2)}\n`);
    expect(feed).toEqual(JSON.parse(readFileSync(goldenPath, 'utf8')) as ParsedFeed);
    // Key order too: queued items are serialized, and their JSON must not change between releases.
    expect(`${JSON.stringify(feed, null, 2)}\n`).toBe(readFileSync(goldenPath, 'utf8'));
  });
});

describe('parseFeedEntries', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(GOLDEN_CASES)(
    "%s: one entry per golden item, whose item() is that item's JSON",
    async (file, baseUrl, contentType) => {
      const parsed = await parseFeedEntries(readFileSync(join(FIXTURES, file)), {
        feedId: 'test-feed',
        baseUrl,
        fetchedAt: FETCHED_AT,
        ...(contentType ? { contentType } : {}),
      });
      const golden = JSON.parse(readFileSync(join(FIXTURES, `${file}.golden.json`), 'utf8')) as ParsedFeed;
      expect(parsed.entries.map((e) => [e.id, e.url, e.fragment])).toEqual(
        golden.items.map((i) => [i.id, i.url, golden.fragments[i.id]]),
      );
      expect(parsed.entries.map((e) => JSON.stringify(e.item()))).toEqual(golden.items.map((i) => JSON.stringify(i)));
      const { items: _items, fragments: _fragments, ...rest } = golden;
      const { memo, ...parsedRest } = parsed;
      expect({ ...parsedRest, entries: undefined }).toEqual({ ...rest, entries: undefined });
      // RSS, Atom and RDF documents come with a memo for the next parse; JSON feeds have none.
      expect(typeof memo).toBe(file.endsWith('.json') ? 'undefined' : 'string');
    },
  );

  it('normalizes no entry until its item() is asked for', async () => {
    const items = Array.from(
      { length: 15 },
      (_, i) =>
        `<item><title>Story &lt;b&gt;${i}&lt;/b&gt;</title><link>/s/${i}?utm_source=rss</link><guid isPermaLink="false">g-${i}</guid>` +
        `<pubDate>Mon, 04 Aug 2025 10:00:00 GMT</pubDate><description>&lt;p&gt;Text ${i}&lt;/p&gt;</description></item>`,
    ).join('');
    const schemaParse = vi.spyOn(FeedItemSchema, 'parse');
    const parsed = await parseFeedEntries(Buffer.from(rss(items)), {
      feedId: 'test-feed',
      baseUrl: 'https://feeds.example.com/feed.xml',
      fetchedAt: FETCHED_AT,
    });
    expect(parsed.entries).toHaveLength(15);
    expect(parsed.entries[3]!.url).toBe('https://site.example/s/3');
    expect(schemaParse).not.toHaveBeenCalled();
    const fresh = parsed.entries.slice(0, 5).map((e) => e.item());
    expect(schemaParse).toHaveBeenCalledTimes(5);
    expect(fresh.map((i) => i.title)).toEqual(['Story 0', 'Story 1', 'Story 2', 'Story 3', 'Story 4']);
  });

  it('counts what parseFeed counts: entries with nothing to identify them are none', async () => {
    const atom =
      '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>' +
      '<entry><author><name></name></author></entry>' +
      '<entry><id>urn:x:1</id><title>One</title></entry>' +
      '<entry><title>Title only</title><updated>2025-08-01T00:00:00Z</updated></entry>' +
      '<entry><id>urn:x:1</id><title>One again</title></entry></feed>';
    for (const body of [atom, readFileSync(join(FIXTURES, 'rss2-export-controls.xml'))]) {
      const opts = { feedId: 'test-feed', baseUrl: 'https://feeds.example.com/feed.xml', fetchedAt: FETCHED_AT };
      const buffer = typeof body === 'string' ? Buffer.from(body) : body;
      const parsed = await parseFeedEntries(buffer, opts);
      const feed = await parseFeed(buffer, opts);
      expect(parsed.entries.map((e) => e.id)).toEqual(feed.items.map((i) => i.id));
    }
    const parsed = await parseFeedEntries(Buffer.from(atom), {
      feedId: 'test-feed',
      baseUrl: 'https://feeds.example.com/feed.xml',
      fetchedAt: FETCHED_AT,
    });
    expect(parsed.entries.map((e) => e.item().title)).toEqual(['One', 'Title only']);
  });
});

describe('RSS 2.0', () => {
  it('normalizes ids, links, text, dates, authors and categories', async () => {
    const feed = await parse(readFileSync(join(FIXTURES, 'rss2-export-controls.xml')), {
      baseUrl: 'https://feeds.example.com/trade.rss',
    });
    expect(feed.format).toBe('rss');
    expect(feed.title).toBe('Trade Compliance Wire & Friends');
    expect(feed.items).toHaveLength(4); // the empty fifth item has nothing to identify it
    const [bis, ofac, rotterdam, tariff] = feed.items;

    // Double-escaped entity (Federal Register style) decodes all the way.
    expect(bis!.title).toBe("BIS adds 12 entities to the Entity List 'effective immediately'");
    // Relative link resolved against the channel <link>, tracking parameters and fragment dropped.
    expect(bis!.url).toBe('https://news.example.com/trade/2025/bis-entity-list.html?id=7');
    expect(bis!.guid).toBe('bis-2025-0142');
    expect(bis!.summary).toBe('The Bureau of Industry & Security (BIS) added 12 entities in China. EAR text');
    expect(bis!.contentHtml).toContain('src="https://news.example.com/trade/images/map.png"');
    expect(bis!.contentHtml).toContain("href='https://other.example.org/x'");
    expect(bis!.contentHtml).toContain('href="#top"');
    expect(bis!.published).toBe('2025-08-04T14:30:00.000Z');
    expect(bis!.publishedEstimated).toBe(false);
    expect(bis!.author).toBe('Jane Analyst');
    expect(bis!.categories).toEqual(['Export Controls', 'Entity List']);
    expect(bis!.lang).toBe('en-us');
    expect(bis!.id).toMatch(/^i[0-9a-f]{24}$/);

    // guid is a permalink: used as the link, canonicalized.
    expect(ofac!.url).toBe('https://news.example.com/trade/2025/ofac-update');
    expect(ofac!.title).toBe('OFAC sanctions update: AT&T-style bare ampersand été');
    expect(ofac!.published).toBe('2025-08-05T07:15:00.000Z'); // CEST = +02:00
    expect(ofac!.author).toBe('Sanctions Desk');
    expect(ofac!.summary).toBe('Plain text summary with escaped markup.');

    expect(rotterdam!.published).toBe(FETCHED_AT.toISOString());
    expect(rotterdam!.publishedEstimated).toBe(true);
    expect(rotterdam!.guid).toBeUndefined();

    // A zone-less ISO date is UTC, not the machine's local time.
    expect(tariff!.published).toBe('2025-08-03T08:00:00.000Z');
    expect(tariff!.url).toBeUndefined();
  });

  it('gives stable ids across polls, independent of the fetch time', async () => {
    const body = readFileSync(join(FIXTURES, 'rss2-export-controls.xml'));
    const a = await parse(body);
    const b = await parseFeed(body, {
      feedId: 'test-feed',
      baseUrl: 'https://feeds.example.com/x',
      fetchedAt: new Date(),
    });
    expect(b.items.map((i) => i.id)).toEqual(a.items.map((i) => i.id));
    expect(new Set(a.items.map((i) => i.id)).size).toBe(a.items.length);
  });

  it('reads RSS 0.91 and an <rss> without a version', async () => {
    const item = '<item><title>Old</title><link>https://site.example/old</link></item>';
    const v091 = await parse(`<rss version="0.91"><channel><title>T</title>${item}</channel></rss>`);
    expect(v091.items.map((i) => i.title)).toEqual(['Old']);
    const bare = await parse(`<rss><channel><title>T</title>${item}</channel></rss>`);
    expect(bare.items.map((i) => i.url)).toEqual(['https://site.example/old']);
  });

  it('drops duplicate items within one document', async () => {
    const item = '<item><guid>same</guid><title>Twice</title></item>';
    const feed = await parse(rss(item + item));
    expect(feed.items).toHaveLength(1);
  });

  it('caps the item count at 1000', async () => {
    const items = Array.from({ length: 1_100 }, (_, n) => `<item><guid>g${n}</guid><title>Item ${n}</title></item>`);
    const feed = await parse(rss(items.join('')));
    expect(feed.items).toHaveLength(1_000);
    expect(feed.items.at(-1)!.title).toBe('Item 999');
  });

  it('cuts over-long fields to the FeedItemSchema maxima', async () => {
    const long = 'word '.repeat(30_000);
    const feed = await parse(
      rss(
        `<item><guid>${'g'.repeat(3_000)}</guid><title>${long}</title><description>${long}</description>` +
          `<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[<p>${'x'.repeat(150_000)}</p>]]></content:encoded></item>`,
      ),
    );
    const [item] = feed.items;
    expect(item!.title.length).toBeLessThanOrEqual(2_000);
    expect(item!.summary.length).toBeLessThanOrEqual(20_000);
    expect(item!.contentHtml!.length).toBeLessThanOrEqual(100_000);
    expect(item!.guid).toBeUndefined(); // too long to keep, still used for the id
    expect(item!.id).toMatch(/^i[0-9a-f]{24}$/);
  });

  it('uses the configured language hint when the feed has none', async () => {
    const feed = await parse(rss('<item><guid>a</guid><title>x</title></item>'), { lang: 'zh' });
    expect(feed.items[0]!.lang).toBe('zh');
  });
});

describe('Atom and RDF', () => {
  it('reads Atom entries, HTML titles and bad dates', async () => {
    const feed = await parse(readFileSync(join(FIXTURES, 'atom-sanctions.atom')), {
      baseUrl: 'https://watch.example.net/atom.xml',
    });
    expect(feed.format).toBe('atom');
    expect(feed.link).toBe('https://watch.example.net/');
    const [eu, badDate, noDate] = feed.items;
    expect(eu!.title).toBe('EU 14th package & Russia');
    expect(eu!.url).toBe('https://watch.example.net/posts/eu-14th-package');
    expect(eu!.guid).toBe('tag:watch.example.net,2025:1');
    expect(eu!.published).toBe('2025-08-05T08:00:00.000Z');
    expect(eu!.summary).toBe('The Council adopted the package.');
    expect(eu!.contentHtml).toContain('src="https://watch.example.net/img/flag.png"');
    expect(eu!.author).toBe('Max Mustermann');
    expect(eu!.categories).toEqual(['Sanctions', 'eu']);
    // "yesterday" does not reject the feed (rss-parser alone would): the updated date is used.
    expect(badDate!.published).toBe('2025-08-04T09:00:00.000Z');
    expect(badDate!.summary).toBe('XHTML content');
    expect(noDate!.publishedEstimated).toBe(true);
  });

  it('reads RSS 1.0 (RDF) with dc:date and rdf:about', async () => {
    const feed = await parse(readFileSync(join(FIXTURES, 'rdf-customs.rdf')));
    expect(feed.format).toBe('rdf');
    const [one, two] = feed.items;
    expect(one!.guid).toBe('http://customs.example.org/rulings/1');
    expect(one!.published).toBe('2025-07-30T19:00:00.000Z');
    expect(one!.author).toBe('CBP');
    expect(one!.lang).toBe('en');
    expect(two!.url).toBe('http://customs.example.org/rulings/2?page=2');
    expect(two!.published).toBe('2025-07-31T00:00:00.000Z');
  });
});

describe('JSON feeds', () => {
  it('reads JSON Feed 1.1', async () => {
    const feed = await parse(readFileSync(join(FIXTURES, 'jsonfeed-tariffs.json')));
    expect(feed.format).toBe('jsonfeed');
    expect(feed.title).toBe('Tariff Tracker');
    const [steel, aluminium, noId] = feed.items;
    expect(feed.items).toHaveLength(3); // the string item is skipped
    expect(steel!.guid).toBe('101');
    expect(steel!.url).toBe('https://tariffs.example.com/2025/08/steel');
    expect(steel!.summary).toBe('Safeguard extended to 2026.');
    expect(steel!.contentHtml).toContain('href="https://tariffs.example.com/steel"');
    expect(steel!.author).toBe('Trade Team');
    expect(steel!.categories).toEqual(['tariffs', 'steel']);
    expect(steel!.lang).toBe('en-GB');
    expect(aluminium!.url).toBe('https://gov.example/aluminium');
    expect(aluminium!.summary).toBe('Quota opens on 1 September.');
    expect(aluminium!.published).toBe('2025-08-02T07:00:00.000Z');
    expect(aluminium!.author).toBe('Quota Desk');
    expect(aluminium!.categories).toEqual([]);
    expect(noId!.guid).toBeUndefined();
    expect(noId!.title).toBe('No id, no url');
  });

  it('translates RSS-in-JSON', async () => {
    const feed = await parse(readFileSync(join(FIXTURES, 'rss-in-json.json')));
    expect(feed.format).toBe('rss');
    const [story, untitled] = feed.items;
    expect(story!.summary).toBe('An export rule changed.');
    expect(story!.categories).toEqual(['trade', 'policy']);
    expect(story!.url).toBe('http://scripting.example.com/2025/08/01.html');
    expect(untitled!.guid).toBe('post-2');
    expect(untitled!.url).toBeUndefined(); // isPermaLink="false"
    expect(untitled!.title).toBe('Untitled post.');
  });

  it('tells JSON from XML by content, whatever the Content-Type says', async () => {
    const json = readFileSync(join(FIXTURES, 'jsonfeed-tariffs.json'));
    expect((await parse(json, { contentType: 'text/html' })).format).toBe('jsonfeed');
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]);
    expect((await parse(withBom, { contentType: 'text/plain' })).items).toHaveLength(3);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(json.toString(), 'utf-16le')]);
    expect((await parse(utf16)).items).toHaveLength(3);
    const xml = readFileSync(join(FIXTURES, 'rdf-customs.rdf'));
    expect((await parse(xml, { contentType: 'application/json' })).format).toBe('rdf');
  });

  it('names truncated and invalid JSON', async () => {
    const full = readFileSync(join(FIXTURES, 'jsonfeed-tariffs.json'), 'utf8');
    const cut = full.slice(0, full.indexOf('Steel safeguard') + 5);
    expect((await parseError(cut)).message).toBe(`truncated JSON at position ${cut.length}`);
    expect((await parseError(`${cut}\n`)).message).toMatch(/^truncated JSON at position/);
    expect((await parseError('{"items": [1,,2]}')).message).toMatch(/^invalid JSON: /);
    expect((await parseError('{"version":"https://jsonfeed.org/version/1.1","items":{}}')).message).toBe(
      'not a JSON Feed: items must be an array of items',
    );
    expect((await parseError('{"hello":"world"}')).message).toBe(
      'not a feed: JSON without a JSON Feed "version" or "items"',
    );
    expect((await parseError('{"rss":{"version":"2.0"}}')).message).toMatch(/RSS-in-JSON without a "channel"/);
    expect((await parseError('[1, 2]')).message).toBe('not a feed: the JSON document is not an object');
  });
});

describe('character sets', () => {
  const item = (title: string) =>
    `<rss version="2.0"><channel><title>${title}</title><item><guid>1</guid><title>${title}</title></item></channel></rss>`;
  const titleOf = (feed: ParsedFeed) => feed.items[0]!.title;

  it.each([
    ['GBK', 'gbk', '出口管制新规'],
    ['GB2312', 'gb2312', '海关总署公告'],
    ['GB18030', 'gb18030', '制裁名单'],
    ['Big5', 'big5', '出口管制條例'],
    ['Shift_JIS', 'shift_jis', '輸出管理の強化'],
    ['EUC-KR', 'euc-kr', '수출 통제'],
    ['ISO-8859-1', 'latin1', 'Exportação às sanções'],
    ['windows-1252', 'windows-1252', 'Zoll – “Sanktionen” €'],
  ])('decodes %s from the XML declaration', async (label, codec, text) => {
    const bytes = iconv.encode(`<?xml version="1.0" encoding="${label}"?>\n${item(text)}`, codec);
    expect(titleOf(await parse(bytes))).toBe(text);
  });

  it('prefers the Content-Type charset over the declaration', async () => {
    const bytes = iconv.encode(`<?xml version="1.0" encoding="gb2312"?>${item('出口條例')}`, 'big5');
    expect(titleOf(await parse(bytes, { contentType: 'application/rss+xml; charset="Big5"' }))).toBe('出口條例');
  });

  it('lets valid UTF-8 win over a header that claims ISO-8859-1', async () => {
    const bytes = Buffer.from(`<?xml version="1.0" encoding="utf-8"?>${item('Exportação')}`);
    expect(titleOf(await parse(bytes, { contentType: 'text/xml; charset=ISO-8859-1' }))).toBe('Exportação');
  });

  it('falls back to Windows-1252 for undeclared bytes that are not UTF-8', async () => {
    const bytes = iconv.encode(item('Notícias de São Paulo'), 'latin1');
    expect(titleOf(await parse(bytes))).toBe('Notícias de São Paulo');
  });

  it('honours a UTF-8 BOM over a wrong declaration, and UTF-16 with a BOM', async () => {
    const utf8 = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?>${item('Größe')}`),
    ]);
    expect(titleOf(await parse(utf8))).toBe('Größe');
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      iconv.encode(`<?xml version="1.0" encoding="UTF-16"?>${item('Ελλάδα')}`, 'utf-16le'),
    ]);
    expect(titleOf(await parse(utf16))).toBe('Ελλάδα');
  });

  it('copes with leading newlines, bare CR line endings and a bogus <?phpxml?> header', async () => {
    const body = `\n\n  <?phpxml version="1.0" encoding="UTF-8"?>\r\r<rss version="2.0">\r<channel>\r<title>T</title>\r<item><guid>1</guid><title>Line\rbreak</title></item></channel></rss>`;
    expect(titleOf(await parse(body))).toBe('Line break');
  });
});

describe('hostile and broken input', () => {
  it('rejects a billion-laughs document fast', async () => {
    const levels = Array.from({ length: 10 }, (_, n) => `<!ENTITY lol${n + 1} "${`&lol${n};`.repeat(10)}">`).join('');
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${levels}]><rss version="2.0"><channel><title>&lol10;</title></channel></rss>`;
    const started = performance.now();
    expect((await parseError(bomb)).message).toBe('XML entity declarations are not allowed');
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('rejects an external entity (XXE) declaration', async () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>&xxe;</title></channel></rss>`;
    expect((await parseError(xxe)).message).toBe('XML entity declarations are not allowed');
  });

  it('rejects an entity bomb with a megabyte-sized internal subset quickly', async () => {
    const decls = Array.from({ length: 20_000 }, (_, n) => `<!ENTITY e${n} "${'x'.repeat(40)}">`).join('');
    const started = performance.now();
    await parseError(`<!DOCTYPE rss [${decls}]><rss version="2.0"><channel/></rss>`);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it.each([
    ['an HTML page', readFileSync(join(FIXTURES, 'html-instead-of-feed.html')), 'not a feed: got an HTML document'],
    ['an HTML fragment', '<head><title>Moved</title></head><body>x</body>', 'not a feed: got an HTML document'],
    ['an empty body', '', 'not a feed: the response body is empty'],
    ['whitespace', '   \n ', 'not a feed: the document is empty'],
    [
      'plain text',
      'Service Unavailable',
      'not a feed: expected XML or JSON, the document starts with "Service Unavailable"',
    ],
    [
      'another XML vocabulary',
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
      'not a feed: the root element is <svg>, not <rss>, <feed> or <rdf:RDF>',
    ],
  ])('names %s', async (_name, body, message) => {
    expect((await parseError(body)).message).toBe(message);
  });

  it('names the line of malformed XML', async () => {
    const err = await parseError('<rss version="2.0">\n<channel>\n<title>T</titel>\n</channel></rss>');
    expect(err.message).toMatch(/^malformed XML: .* at line 3, column \d+$/);
  });

  it('rejects an <rss> without a <channel>', async () => {
    expect((await parseError('<rss version="2.0"><foo/></rss>')).message).toMatch(/^not a feed: <rss> lacks/);
  });

  it('does not hang on deeply nested markup', async () => {
    const deep = `${'<div>'.repeat(50_000)}x${'</div>'.repeat(50_000)}`;
    const started = performance.now();
    await parse(rss(`<item><guid>1</guid><title>t</title><description><![CDATA[${deep}]]></description></item>`)).catch(
      () => undefined,
    );
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
