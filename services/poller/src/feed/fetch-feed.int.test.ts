import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { PermanentError, RateLimitedError, RetryableError } from '@regwatch/contracts';
import { createAddressPolicy, DEFAULT_USER_AGENT, OutboundError } from '@regwatch/outbound';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchFeed } from './fetch-feed.js';
import { parseFeed } from './parse-feed.js';

// Servers listen on loopback only: the feed server on 127.0.0.2 (opened by the allow-list), a
// canary on 127.0.0.1 that must never be reached.

const policy = createAddressPolicy(['127.0.0.2/32']);

const FEED = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Local</title><link>http://127.0.0.2/</link>
<item><guid>a1</guid><title>Export rule</title><link>/a1</link><pubDate>Mon, 04 Aug 2025 10:00:00 GMT</pubDate></item>
</channel></rss>`;
const ETAG = '"v1"';
const LAST_MODIFIED = 'Mon, 04 Aug 2025 10:00:00 GMT';

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];
let canary: http.Server;
let canaryHits = 0;
let canaryUrl: string;

function listen(s: http.Server, host: string): Promise<string> {
  return new Promise((resolve) =>
    s.listen(0, host, () => resolve(`http://${host}:${(s.address() as AddressInfo).port}`)),
  );
}

beforeAll(async () => {
  canary = http.createServer((_req, res) => res.end('canary'));
  canary.on('connection', () => {
    canaryHits += 1;
  });
  canaryUrl = await listen(canary, '127.0.0.1');

  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const path = req.url ?? '';
    if (path === '/feed') {
      if (req.headers['if-none-match'] === ETAG) {
        res.writeHead(304, { ETag: ETAG }).end();
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'application/rss+xml; charset=utf-8',
        ETag: ETAG,
        'Last-Modified': LAST_MODIFIED,
      });
      res.end(FEED);
    } else if (path === '/gzip') {
      res.writeHead(200, { 'Content-Type': 'application/rss+xml', 'Content-Encoding': 'gzip' });
      res.end(zlib.gzipSync(FEED));
    } else if (path === '/moved-permanently') {
      res.writeHead(301, { Location: '/feed' }).end();
    } else if (path === '/moved-308') {
      res.writeHead(308, { Location: `${base}/feed` }).end();
    } else if (path === '/moved-temporarily') {
      res.writeHead(302, { Location: '/feed' }).end();
    } else if (path === '/permanent-then-temporary') {
      res.writeHead(301, { Location: '/moved-temporarily' }).end();
    } else if (path === '/to-canary') {
      res.writeHead(302, { Location: `${canaryUrl}/feed` }).end();
    } else if (path === '/rate-limited') {
      res.writeHead(429, { 'Retry-After': '120' }).end();
    } else if (path === '/rate-limited-date') {
      res.writeHead(429, { 'Retry-After': new Date(Date.now() + 90_000).toUTCString() }).end();
    } else if (path === '/rate-limited-bare') {
      res.writeHead(429).end();
    } else if (path === '/unavailable-retry') {
      res.writeHead(503, { 'Retry-After': '30' }).end();
    } else if (path.startsWith('/status/')) {
      res.writeHead(Number(path.slice('/status/'.length))).end('error page');
    } else {
      res.writeHead(404).end();
    }
  });
  base = await listen(server, '127.0.0.2');
});

afterAll(async () => {
  server.closeAllConnections();
  canary.closeAllConnections();
  await Promise.all([new Promise((resolve) => server.close(resolve)), new Promise((resolve) => canary.close(resolve))]);
});

afterEach(() => {
  expect(canaryHits).toBe(0);
});

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; status?: number }> {
  return promise.then(
    () => {
      throw new Error('expected fetchFeed to fail');
    },
    (e: unknown) => e as Error & { code?: string; status?: number },
  );
}

describe('fetchFeed()', () => {
  it('fetches, then revalidates with the stored ETag and Last-Modified', async () => {
    const first = await fetchFeed(`${base}/feed`, {}, { policy });
    expect(first.status).toBe('ok');
    if (first.status !== 'ok') return;
    expect(first.httpStatus).toBe(200);
    expect(first.contentType).toBe('application/rss+xml; charset=utf-8');
    expect(first.finalUrl).toBe(`${base}/feed`);
    expect(first.state).toEqual({ etag: ETAG, lastModified: LAST_MODIFIED });
    expect(first.permanentRedirect).toBeUndefined();
    const firstSeen = seen.at(-1)!;
    expect(firstSeen.headers['user-agent']).toBe(DEFAULT_USER_AGENT);
    expect(firstSeen.headers.accept).toMatch(/^application\/rss\+xml, application\/atom\+xml, application\/feed\+json/);
    expect(firstSeen.headers['if-none-match']).toBeUndefined();
    expect(firstSeen.headers['if-modified-since']).toBeUndefined();

    const feed = await parseFeed(first.body, {
      feedId: 'local',
      baseUrl: first.finalUrl,
      fetchedAt: new Date('2025-08-06T00:00:00Z'),
      ...(first.contentType ? { contentType: first.contentType } : {}),
    });
    expect(feed.items.map((i) => i.url)).toEqual(['http://127.0.0.2/a1']);

    const second = await fetchFeed(`${base}/feed`, first.state, { policy, userAgent: 'regwatch-test/1' });
    expect(second).toEqual({
      status: 'not-modified',
      httpStatus: 304,
      state: { etag: ETAG, lastModified: LAST_MODIFIED },
    });
    const secondSeen = seen.at(-1)!;
    expect(secondSeen.headers['if-none-match']).toBe(ETAG);
    expect(secondSeen.headers['if-modified-since']).toBe(LAST_MODIFIED);
    expect(secondSeen.headers['user-agent']).toBe('regwatch-test/1');
  });

  it('decodes a gzip response', async () => {
    const res = await fetchFeed(`${base}/gzip`, {}, { policy });
    expect(res.status === 'ok' && res.body.toString()).toBe(FEED);
    expect(seen.at(-1)!.headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it.each([
    ['301', '/moved-permanently'],
    ['308', '/moved-308'],
  ])('reports a %s as a permanent move', async (_status, path) => {
    const res = await fetchFeed(`${base}${path}`, {}, { policy });
    expect(res.status).toBe('ok');
    if (res.status !== 'ok') return;
    expect(res.permanentRedirect).toBe(`${base}/feed`);
    expect(res.state.permanentUrl).toBe(`${base}/feed`);
    expect(res.finalUrl).toBe(`${base}/feed`);
  });

  it('does not treat a temporary redirect as a move', async () => {
    const res = await fetchFeed(`${base}/moved-temporarily`, {}, { policy });
    expect(res.status === 'ok' && res.permanentRedirect).toBeUndefined();
    const chain = await fetchFeed(`${base}/permanent-then-temporary`, {}, { policy });
    expect(chain.status === 'ok' && chain.permanentRedirect).toBe(`${base}/moved-temporarily`);
  });

  it('maps 429 with Retry-After (seconds or HTTP-date) to RateLimitedError', async () => {
    const seconds = await rejection(fetchFeed(`${base}/rate-limited`, {}, { policy }));
    expect(seconds).toBeInstanceOf(RateLimitedError);
    expect((seconds as RateLimitedError).retryAfterMs).toBe(120_000);
    expect(seconds.code).toBe('FEED_RATE_LIMITED');
    expect(seconds.status).toBe(429);

    const date = await rejection(fetchFeed(`${base}/rate-limited-date`, {}, { policy }));
    expect((date as RateLimitedError).retryAfterMs).toBeGreaterThan(80_000);
    expect((date as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(90_000);

    const bare = await rejection(fetchFeed(`${base}/rate-limited-bare`, {}, { policy }));
    expect((bare as RateLimitedError).retryAfterMs).toBe(60_000);

    const unavailable = await rejection(fetchFeed(`${base}/unavailable-retry`, {}, { policy }));
    expect((unavailable as RateLimitedError).retryAfterMs).toBe(30_000);
  });

  it.each([
    [404, PermanentError, 'FEED_NOT_FOUND'],
    [410, PermanentError, 'FEED_GONE'],
    [403, PermanentError, 'FEED_HTTP_4XX'],
    [400, PermanentError, 'FEED_HTTP_4XX'],
    [408, RetryableError, 'FEED_HTTP_TIMEOUT'],
    [500, RetryableError, 'FEED_HTTP_5XX'],
    [503, RetryableError, 'FEED_HTTP_5XX'],
  ])('maps HTTP %d to %o %s', async (status, kind, code) => {
    const err = await rejection(fetchFeed(`${base}/status/${status}`, {}, { policy }));
    expect(err).toBeInstanceOf(kind);
    expect(err).not.toBeInstanceOf(RateLimitedError);
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
    expect(err.message).toContain(`answered HTTP ${status}`);
  });

  it('refuses a redirect to 127.0.0.1 through the SSRF guard', async () => {
    const err = await rejection(fetchFeed(`${base}/to-canary`, {}, { policy }));
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.code).toBe('OUTBOUND_BLOCKED_ADDRESS');
  });

  it('passes the lookup seam through', async () => {
    const port = new URL(base).port;
    const res = await fetchFeed(
      `http://feeds.test:${port}/feed`,
      {},
      {
        policy,
        lookup: (_host, options, callback) => {
          if (options.all) callback(null, [{ address: '127.0.0.2', family: 4 }]);
          else callback(null, '127.0.0.2', 4);
        },
      },
    );
    expect(res.status).toBe('ok');
    expect(seen.at(-1)!.headers.host).toBe(`feeds.test:${port}`);
  });
});
