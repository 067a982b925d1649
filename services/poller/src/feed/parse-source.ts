import type { FeedSource } from '@regwatch/contracts';
import { parseFederalRegister } from './federal-register.js';
import { parseHtmlList } from './html-source.js';
import { parsePageSource } from './page-watch.js';
import {
  entriesOf,
  type ParsedEntries,
  type ParsedFeed,
  type ParseFeedOptions,
  parseFeed,
  parseFeedEntries,
} from './parse-feed.js';

export interface ParseSourceOptions extends ParseFeedOptions {
  /** A `page` source's last region text (undefined: none yet, this poll sets the baseline). */
  pageBaseline?: { of: string; text: string } | undefined;
}

/**
 * Parses what a source's URL answered, by the source's type: a feed (`rss`, the default), a list
 * page read with selectors (`html`), a Federal Register documents.json response
 * (`federalregister`) or one watched page region (`page`). Every result is the same normalized
 * {@link ParsedFeed}, so deduplication, queueing and classification do not care which it was.
 */
export async function parseSource(body: Buffer, source: FeedSource, opts: ParseSourceOptions): Promise<ParsedFeed> {
  const { pageBaseline, ...common } = opts;
  if (source.type === 'html') return parseHtmlList(body, source, common);
  if (source.type === 'federalregister') return parseFederalRegister(body, common);
  if (source.type === 'page') return parsePageSource(body, source, common, pageBaseline);
  return parseFeed(body, common);
}

/**
 * {@link parseSource} as the poller reads it: entries whose FeedItem is built on demand, so only
 * the items not seen before are normalized. Feeds are parsed lazily; the other source types
 * build their few items at once, as `parseSource` does.
 */
export async function parseSourceEntries(
  body: Buffer,
  source: FeedSource,
  opts: ParseSourceOptions,
): Promise<ParsedEntries> {
  const { pageBaseline, ...common } = opts;
  if (source.type === 'html') return entriesOf(parseHtmlList(body, source, common));
  if (source.type === 'federalregister') return entriesOf(parseFederalRegister(body, common));
  if (source.type === 'page') return entriesOf(parsePageSource(body, source, common, pageBaseline));
  return parseFeedEntries(body, common);
}

/** {@link parseSourceEntries} with the source in the options: the poller's `parse` dependency. */
export function parseSourceDocument(
  body: Buffer,
  opts: ParseSourceOptions & { source: FeedSource },
): Promise<ParsedEntries> {
  const { source, ...rest } = opts;
  return parseSourceEntries(body, source, rest);
}
