import { z } from 'zod';
import { feedParseError } from './feed-errors.js';
import { type RawFeed, type RawItem, textOf } from './raw-feed.js';
import { MAX_ITEMS } from './xml-feed.js';

// Lenient field types: a wrong type in one field of one item costs that field, not the feed.
const optionalString = z.string().optional().catch(undefined);
const AuthorSchema = z.object({ name: optionalString }).catch({ name: undefined });

/** One JSON Feed 1.0/1.1 item (https://www.jsonfeed.org/version/1.1/). */
const JsonFeedItemSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String).optional().catch(undefined),
  url: optionalString,
  external_url: optionalString,
  title: optionalString,
  content_html: optionalString,
  content_text: optionalString,
  summary: optionalString,
  date_published: optionalString,
  date_modified: optionalString,
  author: AuthorSchema.optional().catch(undefined),
  authors: z.array(AuthorSchema).optional().catch(undefined),
  tags: z.array(z.string().catch('')).optional().catch(undefined),
  language: optionalString,
});

const JsonFeedSchema = z.object({
  version: z
    .string()
    .regex(/^https?:\/\/jsonfeed\.org\/version\//, 'is not a jsonfeed.org version URL')
    .optional(),
  title: optionalString,
  home_page_url: optionalString,
  language: optionalString,
  items: z.array(z.unknown(), { error: 'must be an array of items' }),
});

/**
 * V8 says "Unterminated string in JSON at position 1234" or "Unexpected end of JSON input" for a
 * document cut short (the allthis fixture); name the position either way.
 */
function describeJsonError(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(message)?.[1];
  if (/Unterminated string|Unexpected end of JSON input/.test(message)) {
    return `truncated JSON at position ${position ?? text.length}`;
  }
  return `invalid JSON: ${message.split('\n')[0]}`;
}

function fromJsonFeedItem(value: unknown): RawItem | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const item = JsonFeedItemSchema.parse(value);
  const author = item.authors?.find((a) => a.name)?.name ?? item.author?.name;
  return {
    guid: item.id,
    guidIsPermaLink: false,
    link: item.url ?? item.external_url,
    title: item.title,
    summaryHtml: item.summary,
    contentHtml: item.content_html,
    contentText: item.content_text,
    dates: [item.date_published, item.date_modified],
    author,
    categories: (item.tags ?? []).filter((t) => t !== ''),
    lang: item.language,
  };
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * RSS-in-JSON (http://cyber.harvard.edu/rss/rss-in-json): an RSS 2.0 tree serialised as JSON,
 * `{"rss":{"channel":{"item":[…]}}}`, as Scripting News publishes it. Translated field by field
 * rather than refused: it carries the same information as the XML feed.
 */
function fromRssInJson(channel: Record<string, unknown>): RawFeed {
  const items = asArray(channel['item'])
    .slice(0, MAX_ITEMS)
    .filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object')
    .map((item): RawItem => {
      const guidNode = item['guid'];
      const permaAttr = (guidNode as Record<string, unknown> | null)?.['isPermaLink'];
      return {
        guid: textOf(guidNode) ?? textOf((guidNode as Record<string, unknown> | null)?.['value']),
        guidIsPermaLink: permaAttr === undefined ? undefined : String(permaAttr) !== 'false',
        link: textOf(item['link']),
        title: textOf(item['title']),
        summaryHtml: textOf(item['description']),
        contentHtml: textOf(item['content:encoded']),
        dates: [textOf(item['pubDate']), textOf(item['dc:date'])],
        author: textOf(item['dc:creator']) ?? textOf(item['author']),
        categories: asArray(item['category'])
          .map((c) => textOf(c))
          .filter((c): c is string => c !== undefined),
      };
    });
  return {
    format: 'rss',
    title: textOf(channel['title']),
    link: textOf(channel['link']),
    lang: textOf(channel['language']),
    items,
  };
}

/** Reads a JSON Feed (or RSS-in-JSON) document. */
export function parseJsonFeed(text: string): RawFeed {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // A document cut mid-string may end in a newline, which V8 reports as a "bad control
    // character"; parsing it without trailing whitespace tells truncation from real garbage.
    let reported = err;
    const trimmed = text.trimEnd();
    if (trimmed.length !== text.length) {
      try {
        JSON.parse(trimmed);
      } catch (again) {
        if (/Unterminated string|Unexpected end of JSON input/.test(String(again))) reported = again;
      }
    }
    throw feedParseError(describeJsonError(reported, trimmed), err);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw feedParseError('not a feed: the JSON document is not an object');
  }
  const record = doc as Record<string, unknown>;
  const rss = record['rss'] as Record<string, unknown> | undefined;
  if (rss !== null && typeof rss === 'object' && record['items'] === undefined) {
    const channel = rss['channel'];
    if (channel === null || typeof channel !== 'object' || Array.isArray(channel)) {
      throw feedParseError('not a feed: RSS-in-JSON without a "channel" object');
    }
    return fromRssInJson(channel as Record<string, unknown>);
  }
  const result = JsonFeedSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    if (record['items'] === undefined && record['version'] === undefined) {
      throw feedParseError('not a feed: JSON without a JSON Feed "version" or "items"');
    }
    throw feedParseError(`not a JSON Feed: ${where} ${issue?.message ?? 'is invalid'}`);
  }
  const feed = result.data;
  return {
    format: 'jsonfeed',
    title: feed.title,
    link: feed.home_page_url,
    lang: feed.language,
    items: feed.items
      .slice(0, MAX_ITEMS)
      .map(fromJsonFeedItem)
      .filter((i): i is RawItem => i !== undefined),
  };
}
