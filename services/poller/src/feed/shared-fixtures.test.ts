import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FeedItemSchema, PermanentError } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { type ParsedFeed, parseFeed, parseFeedEntries } from './parse-feed.js';

// Real-world documents kept outside the repo (see its MANIFEST.md). REGWATCH_FEED_FIXTURES
// points at them; by default ../shared/fixtures/feeds relative to the repository root.
const REPO_ROOT = resolve(import.meta.dirname, '../../../..');
const DIR = resolve(REPO_ROOT, process.env['REGWATCH_FEED_FIXTURES'] || '../shared/fixtures/feeds');
const FILES = existsSync(DIR)
  ? readdirSync(DIR)
      .filter((f) => !f.startsWith('.') && f !== 'MANIFEST.md')
      .sort()
  : [];

/** Documents that are broken beyond repair and must fail with exactly this message. */
const EXPECTED_ERRORS: Record<string, RegExp> = {
  'marketwatch-document-moved.rss': /^not a feed: got an HTML document$/,
  'allthis-truncated.jsonfeed.json': /^truncated JSON at position \d+$/,
};

const FETCHED_AT = new Date('2025-09-01T00:00:00Z');

describe.skipIf(FILES.length === 0)(`shared feed fixtures in ${DIR}`, () => {
  const results = new Map<string, ParsedFeed | Error>();

  it('parses every document into items or fails with a clear FEED_PARSE error', async () => {
    for (const file of FILES) {
      const started = performance.now();
      let line: string;
      try {
        const feed = await parseFeed(readFileSync(join(DIR, file)), {
          feedId: 'fixture',
          baseUrl: 'https://fixtures.example/feed',
          fetchedAt: FETCHED_AT,
          ...(file.endsWith('.json') ? { contentType: 'application/json' } : {}),
        });
        results.set(file, feed);
        for (const item of feed.items) FeedItemSchema.parse(item);
        const estimated = feed.items.filter((i) => i.publishedEstimated).length;
        line = `${feed.format} ${feed.items.length} items (${estimated} undated)`;
      } catch (err) {
        expect(err, file).toBeInstanceOf(PermanentError);
        expect((err as PermanentError).code, file).toBe('FEED_PARSE');
        results.set(file, err as Error);
        line = `FEED_PARSE: ${(err as Error).message}`;
      }
      const ms = performance.now() - started;
      console.log(`${file.padEnd(42)} ${line} [${ms.toFixed(0)} ms]`);
      expect(ms, file).toBeLessThan(2_000);
    }
  });

  it('fails exactly the documents that are broken beyond repair', () => {
    for (const file of FILES) {
      const result = results.get(file);
      const expected = EXPECTED_ERRORS[file];
      if (expected) {
        expect(result, file).toBeInstanceOf(Error);
        expect((result as Error).message, file).toMatch(expected);
      } else {
        expect(result, file).not.toBeInstanceOf(Error);
      }
    }
  });

  it('gives the same entries parsed again with the memo of the first parse, taking most from the memo', async () => {
    let remembered = 0;
    for (const file of FILES) {
      if (results.get(file) instanceof Error) continue;
      const opts = {
        feedId: 'fixture',
        baseUrl: 'https://fixtures.example/feed',
        fetchedAt: FETCHED_AT,
        ...(file.endsWith('.json') ? { contentType: 'application/json' } : {}),
      };
      const body = readFileSync(join(DIR, file));
      const first = await parseFeedEntries(body, opts);
      const again = await parseFeedEntries(body, { ...opts, ...(first.memo ? { memo: first.memo } : {}) });
      const identity = (e: { id: string; url?: string; fragment?: string }) => [e.id, e.url, e.fragment];
      expect(again.entries.map(identity), file).toEqual(first.entries.map(identity));
      expect(again.memo, file).toBe(first.memo);
      remembered += again.entries.filter((e) => e.remembered).length;
    }
    // Most of these documents are plain RSS or Atom with guids or links.
    expect(remembered).toBeGreaterThan(100);
  });

  const feedOf = (file: string): ParsedFeed => {
    const result = results.get(file);
    if (result === undefined || result instanceof Error) throw new Error(`${file} did not parse`);
    return result;
  };

  it.skipIf(!FILES.includes('federalregister-documents.rss'))('decodes double-escaped Federal Register titles', () => {
    const feed = feedOf('federalregister-documents.rss');
    expect(feed.items).toHaveLength(200);
    for (const item of feed.items) {
      expect(item.title).not.toMatch(/&(#\d+|#x[0-9a-f]+|[a-z]+);/i);
    }
    expect(feed.items.some((i) => i.title.includes("'") || i.title.includes('"'))).toBe(true);
  });

  it.skipIf(!FILES.includes('uol-noticias-undeclared-latin1.rss'))(
    'reads undeclared Latin-1 and Portuguese dates',
    () => {
      const feed = feedOf('uol-noticias-undeclared-latin1.rss');
      expect(feed.items).toHaveLength(15);
      expect(feed.items[0]!.title).toContain('simulações');
      expect(feed.items.every((i) => !i.publishedEstimated)).toBe(true);
    },
  );

  it.skipIf(!FILES.includes('qq-news-gb2312.xml'))('reads GB2312', () => {
    const feed = feedOf('qq-news-gb2312.xml');
    expect(feed.title).toBe('新闻国内');
    expect(feed.items).toHaveLength(20);
  });

  it.skipIf(!FILES.includes('macworld-no-decl-relative-links.rss'))('resolves relative links in content', () => {
    const feed = feedOf('macworld-no-decl-relative-links.rss');
    const html = feed.items.map((i) => i.contentHtml ?? '').join('\n');
    expect(html).not.toMatch(/(?:href|src)="\/[^/]/);
  });
});
