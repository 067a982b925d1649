import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FeedSource, type ItemJob, itemsOfJob } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { createAddressPolicy, parseAllowNets } from '@regwatch/outbound';
import { startPoller } from '@regwatch/poller';
import { createQueue } from '@regwatch/queue';
import { FeedStateStore } from '@regwatch/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, testPrefix, testRedis } from '../helpers/index.js';

interface Canary {
  host: string;
  port: number;
  /** Base URL as a feed would write it. */
  url: string;
  hits: string[];
  close(): Promise<void>;
}

/** An HTTP server that must never be reached: every request it sees is a hole in the SSRF guard. */
async function startCanary(host: string): Promise<Canary | undefined> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '/');
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end('<rss version="2.0"><channel/></rss>');
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, host, () => resolve(true));
  });
  if (!listening) return undefined; // no IPv6 on this machine
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const canary4 = await startCanary('127.0.0.1');
const canary6 = await startCanary('::1');

describe('SSRF guard end to end: only 127.0.0.2/32 may be reached (REGWATCH_ALLOW_NETS=127.0.0.2/32)', () => {
  const prefix = testPrefix();
  const redis = testRedis();
  let feedServer: Server;
  let base = '';
  let feeds: FeedSource[] = [];
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    if (!canary4) throw new Error('cannot listen on 127.0.0.1');
    // The allowed feed server, on 127.0.0.2: one good feed whose items and images point at the
    // canaries, and redirects into them.
    feedServer = createServer((req, res) => {
      const path = req.url ?? '/';
      if (path === '/good.xml') {
        const v6 = canary6 ? canary6.url : canary4.url;
        res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(
          `<rss version="2.0"><channel><title>Allowed</title><link>${base}/</link>
<item><title>Points at loopback</title><guid isPermaLink="false">one</guid><link>${canary4.url}/item-link</link>
<description>&lt;img src="${canary4.url}/image.png"&gt; text</description></item>
<item><title>Points at IPv6 loopback</title><guid isPermaLink="false">two</guid><link>${v6}/item-link-v6</link></item>
</channel></rss>`,
        );
      } else if (path === '/redirect-v4') {
        res.writeHead(302, { location: `${canary4.url}/via-redirect` }).end();
      } else if (path === '/redirect-v6' && canary6) {
        res.writeHead(301, { location: `${canary6.url}/via-redirect` }).end();
      } else if (path === '/redirect-localhost') {
        res.writeHead(307, { location: `http://localhost:${canary4.port}/via-localhost` }).end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => feedServer.listen(0, '127.0.0.2', resolve));
    base = `http://127.0.0.2:${(feedServer.address() as AddressInfo).port}`;
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          feedServer.closeAllConnections();
          feedServer.close(() => resolve());
        }),
    );

    const feed = (id: string, url: string): FeedSource => ({ id, url, intervalSeconds: 3600, enabled: true });
    feeds = [
      feed('allowed', `${base}/good.xml`),
      feed('redirect-v4', `${base}/redirect-v4`),
      feed('redirect-localhost', `${base}/redirect-localhost`),
      feed('direct-v4', `${canary4.url}/feed.xml`),
      feed('direct-localhost', `http://localhost:${canary4.port}/feed.xml`),
      ...(canary6 ? [feed('redirect-v6', `${base}/redirect-v6`), feed('direct-v6', `${canary6.url}/feed.xml`)] : []),
    ];
    const poller = await startPoller({
      connection: redis,
      prefix,
      log: silentLogger(),
      policy: createAddressPolicy(parseAllowNets('127.0.0.2/32')),
      feeds: () => feeds,
    });
    closers.push(() => poller.close());

    // Every feed gets its first poll at once; wait until each has been attempted.
    const state = new FeedStateStore(redis, prefix);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const states = await Promise.all(feeds.map((f) => state.get(f.id)));
      if (states.every((s) => s.lastAttemptAt)) break;
      if (Date.now() > deadline) throw new Error('not every feed was polled');
      await new Promise((r) => setTimeout(r, 25));
    }
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await deletePrefix(redis, prefix);
    await redis.quit();
    await canary4?.close();
    await canary6?.close();
  });

  it('polls the allowed feed and queues its items as data, without ever requesting their links', async () => {
    const state = await new FeedStateStore(redis, prefix).get('allowed');
    expect(state).toMatchObject({ lastStatus: 200, consecutiveFailures: 0, itemsSeen: 2 });
    const items = createQueue('items', { connection: redis, prefix });
    try {
      const jobs = await items.getJobs(['waiting', 'active', 'completed', 'delayed']);
      // The links are kept as the feed wrote them: an item is data for the classifier and the
      // alert, and regwatch never dereferences an item's link or its images.
      const urls = jobs.flatMap((j) => itemsOfJob(j.data as ItemJob).map((item) => item.url)).sort();
      expect(urls).toEqual([`${canary4!.url}/item-link`, `${(canary6 ?? canary4)!.url}/item-link-v6`].sort());
    } finally {
      await items.close();
    }
  });

  it.each([
    ['direct-v4', /^OUTBOUND_BLOCKED_ADDRESS: refused 127\.0\.0\.1: 127\.0\.0\.1 is a loopback address/],
    ['direct-localhost', /^OUTBOUND_BLOCKED_ADDRESS: refused 127\.0\.0\.1 for localhost: .* loopback address/],
    ['redirect-v4', /^OUTBOUND_BLOCKED_ADDRESS: refused 127\.0\.0\.1: 127\.0\.0\.1 is a loopback address/],
    ['redirect-localhost', /^OUTBOUND_BLOCKED_ADDRESS: refused 127\.0\.0\.1 for localhost: .* loopback address/],
  ])('refuses %s and shows why in its health', async (feedId, why) => {
    const state = await new FeedStateStore(redis, prefix).get(feedId);
    expect(state.lastError).toMatch(why);
    expect(state.consecutiveFailures).toBeGreaterThanOrEqual(1);
    expect(state.lastSuccessAt).toBeUndefined();
    expect(state.lastStatus).toBeUndefined();
    expect(state.permanentUrl).toBeUndefined();
    expect(Date.parse(state.nextPollAt!)).toBeGreaterThan(Date.now());
  });

  it.skipIf(!canary6).each([['direct-v6'], ['redirect-v6']])(
    'refuses %s (IPv6 loopback) and shows why in its health',
    async (feedId) => {
      const state = await new FeedStateStore(redis, prefix).get(feedId);
      expect(state.lastError).toMatch(/^OUTBOUND_BLOCKED_ADDRESS: refused ::1: ::1 is a loopback address/);
      expect(state.consecutiveFailures).toBeGreaterThanOrEqual(1);
      expect(state.permanentUrl).toBeUndefined(); // a 301 into a refused address moves nothing
    },
  );

  it('never lets a single request reach the canaries on 127.0.0.1 or [::1]', () => {
    expect(canary4!.hits).toEqual([]);
    expect(canary6?.hits ?? []).toEqual([]);
  });
});
