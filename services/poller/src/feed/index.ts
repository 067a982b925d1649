/**
 * Fetch, decode, parse and normalize one feed. Plain functions with their dependencies passed in;
 * the BullMQ wiring lives in the worker.
 */
export { canonicalUrl } from './canonical-url.js';
export { charsetFromHtmlMeta, decodeHtmlDocument } from './decode-text.js';
export { parseFederalRegister } from './federal-register.js';
export {
  type FeedHttpState,
  type FetchFeedOptions,
  type FetchFeedResult,
  fetchFeed,
  parseRetryAfter,
} from './fetch-feed.js';
export { MAX_HTML_ITEMS, parseDateWithFormat, parseHtmlList } from './html-source.js';
export { htmlToText } from './html-to-text.js';
export { itemId, sha256Hex } from './item-id.js';
export type { FeedEntry } from './normalize-item.js';
export { diffLines, formatDiff, pageBaselineKey, parsePageSource, readPageRegion } from './page-watch.js';
export {
  entriesOf,
  itemsOf,
  type ParsedEntries,
  type ParsedFeed,
  type ParseFeedOptions,
  parseFeed,
  parseFeedEntries,
} from './parse-feed.js';
export { type ParseSourceOptions, parseSource, parseSourceDocument, parseSourceEntries } from './parse-source.js';
export { type PreviewResult, previewSource } from './preview-source.js';
export type { FeedFormat } from './raw-feed.js';
