import { PermanentError, RateLimitedError, RetryableError } from '@regwatch/contracts';
import { type AddressPolicy, DEFAULT_USER_AGENT, type LookupFunction, request } from '@regwatch/outbound';

/** What a feed's server told us last time, kept between polls for conditional GETs. */
export interface FeedHttpState {
  etag?: string;
  lastModified?: string;
  /** Where the feed permanently moved (301/308); the caller polls that URL from then on. */
  permanentUrl?: string;
}

export type FetchFeedResult =
  | { status: 'not-modified'; httpStatus: 304; state: FeedHttpState }
  | {
      status: 'ok';
      httpStatus: number;
      body: Buffer;
      contentType?: string;
      finalUrl: string;
      state: FeedHttpState;
      /** Set when the chain of redirects began with permanent ones: the URL to use from now on. */
      permanentRedirect?: string;
    };

export interface FetchFeedOptions {
  policy: AddressPolicy;
  userAgent?: string;
  timeoutMs?: number;
  maxBytes?: number;
  /** Test seam for DNS. */
  lookup?: LookupFunction;
  signal?: AbortSignal;
}

/** Feed types first, generic XML/JSON after, anything as a last resort (some servers send text/plain). */
const ACCEPT =
  'application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, ' +
  'application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5';

const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;
const DEFAULT_RETRY_AFTER_MS = 60_000;

/**
 * Reads `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), capped at 24 h so a
 * typo on the other side cannot park a feed for a year.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    // An HTTP-date always has a month name and hh:mm:ss; V8 alone would accept "-5" or "1.5".
    if (!/[A-Za-z]{3}/.test(text) || !/\d{2}:\d{2}:\d{2}/.test(text)) return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** Errors carry the HTTP status, so the poll state can record it. */
function withStatus<E extends Error>(err: E, status: number): E & { status: number } {
  return Object.assign(err, { status });
}

function httpError(url: string, status: number, retryAfter: string | undefined): Error {
  const where = `feed ${url} answered HTTP ${status}`;
  if (status === 429 || status === 503) {
    const waitMs = parseRetryAfter(retryAfter);
    // Without Retry-After a 503 is an ordinary outage (queue backoff); a 429 always means "slow down".
    if (status === 429 || waitMs !== undefined) {
      const ms = waitMs ?? DEFAULT_RETRY_AFTER_MS;
      return withStatus(
        new RateLimitedError('FEED_RATE_LIMITED', `${where}; retry after ${Math.round(ms / 1000)} s`, ms),
        status,
      );
    }
  }
  if (status === 404) return withStatus(new PermanentError('FEED_NOT_FOUND', `${where} (not found)`), status);
  if (status === 410) return withStatus(new PermanentError('FEED_GONE', `${where} (gone for good)`), status);
  if (status === 408) return withStatus(new RetryableError('FEED_HTTP_TIMEOUT', `${where} (request timeout)`), status);
  if (status >= 500) return withStatus(new RetryableError('FEED_HTTP_5XX', `${where} (server error)`), status);
  if (status >= 400) return withStatus(new PermanentError('FEED_HTTP_4XX', `${where} (client error)`), status);
  return withStatus(new PermanentError('FEED_HTTP_STATUS', `${where}, which is not a feed response`), status);
}

/**
 * Fetches a feed with a conditional GET (If-None-Match / If-Modified-Since from `state`) through
 * the SSRF-guarded client. Follows up to 5 redirects and reports a permanent move.
 *
 * @throws RateLimitedError `FEED_RATE_LIMITED` (429, or 503 with Retry-After);
 * PermanentError `FEED_NOT_FOUND` (404), `FEED_GONE` (410), `FEED_HTTP_4XX`;
 * RetryableError `FEED_HTTP_5XX`, `FEED_HTTP_TIMEOUT` (408); and any `OutboundError`.
 * HTTP errors carry `status`.
 */
export async function fetchFeed(url: string, state: FeedHttpState, opts: FetchFeedOptions): Promise<FetchFeedResult> {
  const headers: Record<string, string> = {
    accept: ACCEPT,
    'user-agent': opts.userAgent ?? DEFAULT_USER_AGENT,
  };
  if (state.etag) headers['if-none-match'] = state.etag;
  if (state.lastModified) headers['if-modified-since'] = state.lastModified;

  const res = await request({
    url,
    method: 'GET',
    headers,
    policy: opts.policy,
    maxRedirects: 5,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
    ...(opts.lookup !== undefined ? { lookup: opts.lookup } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
  });

  // Only an unbroken run of permanent redirects from the start moves the feed: 301 → 302 means
  // the first target is the new home, the second only a temporary detour.
  let permanentRedirect: string | undefined;
  for (const hop of res.redirects) {
    if (hop.status !== 301 && hop.status !== 308) break;
    permanentRedirect = hop.to;
  }
  const permanentUrl = permanentRedirect ?? state.permanentUrl;

  if (res.status === 304) {
    // A 304 may refresh the validators (RFC 9110 §15.4.5); keep the old ones otherwise.
    return {
      status: 'not-modified',
      httpStatus: 304,
      state: {
        ...((res.headers['etag'] ?? state.etag) ? { etag: res.headers['etag'] ?? state.etag } : {}),
        ...((res.headers['last-modified'] ?? state.lastModified)
          ? { lastModified: res.headers['last-modified'] ?? state.lastModified }
          : {}),
        ...(permanentUrl ? { permanentUrl } : {}),
      },
    };
  }
  if (res.status < 200 || res.status >= 300) throw httpError(res.url, res.status, res.headers['retry-after']);

  const etag = res.headers['etag'];
  const lastModified = res.headers['last-modified'];
  const contentType = res.headers['content-type'];
  return {
    status: 'ok',
    httpStatus: res.status,
    body: res.body,
    ...(contentType ? { contentType } : {}),
    finalUrl: res.url,
    state: {
      ...(etag ? { etag } : {}),
      ...(lastModified ? { lastModified } : {}),
      ...(permanentUrl ? { permanentUrl } : {}),
    },
    ...(permanentRedirect ? { permanentRedirect } : {}),
  };
}
