import { FeedItemSchema, PermanentError } from '@regwatch/contracts';
import { feed } from '@regwatch/poller';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Property tests for the feed parser: whatever bytes a publisher sends, parseFeed either returns
// schema-valid items or throws PermanentError FEED_PARSE (the poller maps anything else to a
// retry, which would hammer a broken feed). Fixed seeds keep failures reproducible.
const SEED = 0x7e6a7c;
const OPTS = { feedId: 'fuzz', baseUrl: 'http://127.0.0.1:9/feed', fetchedAt: new Date('2026-11-29T00:00:00Z') };

const text = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '&amp;',
    '&#0;',
    '&#x110000;',
    '<![CDATA[x]]>',
    ']]>',
    '&lt;b&gt;bold&lt;/b&gt;',
    '出口管制',
    'e\u0301',
  ),
);
const link = fc.oneof(
  fc.webUrl(),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('/relative/path?utm_source=x#frag', 'javascript:alert(1)', 'http://[::1', '//host/x', ''),
);
const date = fc.oneof(
  fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'Invalid' : d.toUTCString())),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('Sat, 28 Nov 2026 01:00:00 GMT', '2026-11-28T01:00:00+08:00', '9999999999', ''),
);
const item = fc.record({ title: text, link, date, summary: text, guid: fc.option(text) });

function esc(s: string): string {
  return s.replace(/&(?![a-z#0-9]+;)/gi, '&amp;').replace(/</g, '&lt;');
}
function rss(items: Array<typeof item extends fc.Arbitrary<infer T> ? T : never>, title: string): string {
  const body = items
    .map(
      (i) =>
        `<item><title>${esc(i.title)}</title><link>${esc(i.link)}</link><pubDate>${esc(i.date)}</pubDate>` +
        `${i.guid === null ? '' : `<guid>${esc(i.guid)}</guid>`}<description>${esc(i.summary)}</description></item>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>${esc(title)}</title>${body}</channel></rss>`;
}
function atom(items: Array<typeof item extends fc.Arbitrary<infer T> ? T : never>, title: string): string {
  const body = items
    .map(
      (i) =>
        `<entry><title type="html">${esc(i.title)}</title><link href="${esc(i.link).replace(/"/g, '&quot;')}"/>` +
        `<updated>${esc(i.date)}</updated><id>${esc(i.guid ?? '')}</id><summary>${esc(i.summary)}</summary></entry>`,
    )
    .join('');
  return `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>${esc(title)}</title>${body}</feed>`;
}
function jsonFeed(items: Array<typeof item extends fc.Arbitrary<infer T> ? T : never>, title: string): string {
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title,
    items: items.map((i) => ({
      id: i.guid ?? i.link,
      url: i.link,
      title: i.title,
      content_text: i.summary,
      date_published: i.date,
    })),
  });
}

const document = fc
  .tuple(fc.constantFrom(rss, atom, jsonFeed), fc.array(item, { maxLength: 8 }), text)
  .map(([render, items, title]) => render(items, title));

/** Byte-level mutations of a valid document: truncation, splices, flipped bytes. */
const mutated = fc
  .tuple(
    document,
    fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom('cut', 'flip', 'insert', 'delete'),
        bytes: fc.uint8Array({ maxLength: 8 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([doc, edits]) => {
    let buf = Buffer.from(doc, 'utf8');
    for (const e of edits) {
      const at = buf.length === 0 ? 0 : e.at % buf.length;
      if (e.op === 'cut') buf = buf.subarray(0, at);
      else if (e.op === 'flip' && buf.length > 0) buf[at] = (buf[at]! ^ 0xff) & 0xff;
      else if (e.op === 'insert') buf = Buffer.concat([buf.subarray(0, at), Buffer.from(e.bytes), buf.subarray(at)]);
      else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + e.bytes.length + 1)]);
    }
    return buf;
  });

const charset = fc.option(
  fc.oneof(
    fc.constantFrom('utf-8', 'UTF-16LE', 'utf-16be', 'iso-8859-1', 'windows-1252', 'gb2312', 'shift_jis', 'koi8-r'),
    fc.string({ maxLength: 20 }),
  ),
);

/** Throws unless `parseFeed` kept its contract for these bytes. */
async function checkParse(body: Uint8Array, cs: string | null): Promise<number> {
  const contentType = cs === null ? undefined : `application/xml; charset=${cs}`;
  try {
    const parsed = await feed.parseFeed(Buffer.from(body), { ...OPTS, ...(contentType ? { contentType } : {}) });
    for (const it of parsed.items) {
      const r = FeedItemSchema.safeParse(it);
      if (!r.success) throw new Error(`item not valid under FeedItemSchema: ${r.error.message}`);
    }
    return parsed.items.length;
  } catch (err) {
    if (err instanceof PermanentError && err.code === 'FEED_PARSE') return -1;
    throw err;
  }
}

describe('feed.parseFeed (property)', () => {
  it('generated RSS/Atom/JSON feeds parse to schema-valid items', async () => {
    let items = 0;
    await fc.assert(
      fc.asyncProperty(document, charset, async (doc, cs) => {
        items += Math.max(0, await checkParse(Buffer.from(doc, 'utf8'), cs));
      }),
      { seed: SEED, numRuns: 200 },
    );
    // The generator must reach the normalizer, or the property proves nothing.
    expect(items).toBeGreaterThan(200);
  });

  it('mutated documents parse or fail with FEED_PARSE, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(mutated, charset, async (buf, cs) => {
        await checkParse(buf, cs);
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  it('random bytes (incl. BOMs and UTF-16) parse or fail with FEED_PARSE', async () => {
    const prefix = fc.constantFrom([], [0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff], [0x3c, 0x3f, 0x78], [0x7b]);
    await fc.assert(
      fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 512 }), charset, async (p, bytes, cs) => {
        await checkParse(Buffer.concat([Buffer.from(p), Buffer.from(bytes)]), cs);
      }),
      { seed: SEED + 2, numRuns: 300 },
    );
  });

  it('canonicalUrl and htmlToText never throw on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.option(fc.oneof(fc.webUrl(), fc.string())),
        (s, base) => {
          const url = feed.canonicalUrl(s, base ?? undefined);
          expect(url === undefined || typeof url === 'string').toBe(true);
          expect(typeof feed.htmlToText(s)).toBe('string');
          expect(typeof feed.htmlToText(`<p>${s}</p><script>${s}</script>&${s};`)).toBe('string');
        },
      ),
      { seed: SEED + 3, numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (u) => {
        const url = feed.canonicalUrl(u);
        expect(url === undefined || typeof url === 'string').toBe(true);
      }),
      { seed: SEED + 4, numRuns: 300 },
    );
  });
});
