/**
 * Fetch, decode, parse and normalize one feed. Plain functions with their dependencies passed in;
 * the BullMQ wiring lives in the worker.
 */
export { canonicalUrl } from './canonical-url.js';
export {
  type FeedHttpState,
  type FetchFeedOptions,
  type FetchFeedResult,
  fetchFeed,
  parseRetryAfter,
} from './fetch-feed.js';
export { htmlToText } from './html-to-text.js';
export { itemId } from './item-id.js';
export { type ParsedFeed, type ParseFeedOptions, parseFeed } from './parse-feed.js';
export type { FeedFormat } from './raw-feed.js';
