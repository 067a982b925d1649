import { type FeedSource, type FeedSourceType, feedSourceType, feedSourceUrl } from '@regwatch/contracts';
import type { AddressPolicy } from '@regwatch/outbound';
import { fetchFeed } from './fetch-feed.js';
import { readPageRegion } from './page-watch.js';
import type { ParsedFeed } from './parse-feed.js';
import { parseSource } from './parse-source.js';

export interface PreviewResult {
  type: FeedSourceType;
  /** The URL fetched (built, for a Federal Register source given agencies). */
  url: string;
  finalUrl: string;
  httpStatus: number;
  parsed: ParsedFeed;
  /** A `page` source: the region's current text (a preview has no baseline to compare with). */
  regionText?: string;
}

/**
 * Polls one source once, as the poller would (same SSRF policy, size cap, timeouts, charset
 * handling and parser), without state: no conditional GET, nothing remembered, nothing queued.
 * For a `page` source there is no baseline, so the result carries the region's text instead of
 * items.
 */
export async function previewSource(
  source: FeedSource,
  deps: { policy: AddressPolicy; userAgent?: string; now?: Date },
): Promise<PreviewResult> {
  const url = feedSourceUrl(source);
  const fetched = await fetchFeed(
    url,
    {},
    { policy: deps.policy, ...(deps.userAgent ? { userAgent: deps.userAgent } : {}) },
  );
  if (fetched.status !== 'ok') throw new Error(`unexpected ${fetched.httpStatus} without validators`);
  const opts = {
    feedId: source.id,
    baseUrl: fetched.finalUrl,
    fetchedAt: deps.now ?? new Date(),
    ...(fetched.contentType ? { contentType: fetched.contentType } : {}),
    ...(source.lang ? { lang: source.lang } : {}),
  };
  const type = feedSourceType(source);
  const common = { type, url, finalUrl: fetched.finalUrl, httpStatus: fetched.httpStatus };
  if (source.type === 'page') {
    const regionText = readPageRegion(fetched.body, source, opts);
    return { ...common, parsed: { link: fetched.finalUrl, format: 'page', items: [], fragments: {} }, regionText };
  }
  return { ...common, parsed: await parseSource(fetched.body, source, opts) };
}
