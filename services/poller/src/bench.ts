import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FeedItem, FeedSource } from '@regwatch/contracts';
import { createAddressPolicy } from '@regwatch/outbound';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { FeedStateStore } from '@regwatch/store';
import type { Redis } from 'ioredis';
import { fetchFeed, parseFeedEntries } from './feed/index.js';
import { type PollOutcome, pollFeed, seenMembers } from './poll/poll-feed.js';
import { SeenStore } from './poll/seen-store.js';

export interface BenchPollerOptions {
  /** A Redis connection to use (left open); otherwise one to `redisUrl` is made and closed. */
  redis?: Redis;
  redisUrl?: string;
  /** Feeds served and polled. Default 1 000. */
  feeds?: number;
  /** Items per feed document. Default 50. */
  itemsPerFeed?: number;
  /** Polls in flight at once. Default 32. */
  concurrency?: number;
  /** Passes over every feed on the 304 path. Default 3. */
  notModifiedPasses?: number;
  /** Items remembered for the memory figure. Default 100 000. */
  rememberedItems?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface BenchPollerResult {
  /** Polls per second when every feed answers 304 (state read, conditional GET, state write). */
  notModifiedPollsPerSec: number;
  /** Polls per second when every feed has `itemsPerFeed` new items (fetch, parse, dedupe, remember). */
  fullParsePollsPerSec: number;
  /** Redis memory per remembered item (its id and URL members), from MEMORY USAGE of the seen sets. */
  redisBytesPerRememberedItem: number;
  details: {
    feeds: number;
    itemsPerFeed: number;
    concurrency: number;
    notModifiedPolls: number;
    fullParsePolls: number;
    feedBytes: number;
    rememberedItems: number;
    /** The same figure from INFO used_memory before and after; noisier (other clients share the server). */
    usedMemoryBytesPerRememberedItem: number;
    /**
     * CPU time of this process per poll (the feed server included, Redis not): steadier than
     * polls/s on a machine shared with other work.
     */
    notModifiedCpuMsPerPoll: number;
    fullParseCpuMsPerPoll: number;
  };
}

const TOPICS = ['export controls', 'Entity List', 'customs seizure', 'tariff ruling', 'sanctions designation'];

/** One feed document: RSS 2.0 with guid, link (tracking parameters included), date, HTML description. */
function feedDocument(feed: number, version: number, items: number): Buffer {
  const entries: string[] = [];
  for (let i = 0; i < items; i++) {
    const topic = TOPICS[(feed + i) % TOPICS.length]!;
    const day = String(1 + (i % 28)).padStart(2, '0');
    entries.push(
      `<item><title>Notice ${feed}-${version}-${i}: ${topic} update for shipments of advanced chips</title>` +
        `<link>https://news.example.com/${feed}/v${version}/story-${i}?utm_source=rss&amp;utm_medium=feed</link>` +
        `<guid isPermaLink="false">bench-${feed}-${version}-${i}</guid>` +
        `<pubDate>Mon, ${day} Sep 2025 08:00:00 GMT</pubDate>` +
        `<category>Trade</category>` +
        `<description>&lt;p&gt;The agency published a ${topic} notice affecting exporters of integrated circuits, ` +
        `semiconductor manufacturing equipment and related software. Item ${i} of feed ${feed}.&lt;/p&gt;</description></item>`,
    );
  }
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench feed ${feed}</title>` +
      `<link>https://news.example.com/${feed}/</link>${entries.join('')}</channel></rss>`,
  );
}

interface BenchServer {
  url: string;
  /** Serve version `v` of every feed from now on (new ETag, new items). */
  publish(version: number): number;
  close(): Promise<void>;
}

/** One node:http server on 127.0.0.1 serving /feed/N with an ETag, 304 when If-None-Match matches. */
async function startBenchServer(feeds: number, items: number): Promise<BenchServer> {
  let docs: Buffer[] = [];
  let etags: string[] = [];
  const server: Server = createServer((req, res) => {
    const n = Number((req.url ?? '').slice('/feed/'.length));
    const doc = docs[n];
    if (!Number.isInteger(n) || doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    const etag = etags[n]!;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag, 'content-length': doc.length });
    res.end(doc);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    publish(version) {
      docs = Array.from({ length: feeds }, (_, n) => feedDocument(n, version, items));
      etags = docs.map((_, n) => `"${n}-${version}"`);
      return docs.reduce((sum, d) => sum + d.length, 0);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `task` for each index with at most `concurrency` in flight; returns the elapsed seconds. */
async function runPool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  });
  await Promise.all(lanes);
  return (performance.now() - started) / 1000;
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/**
 * The poller's benchmark: 1 000 local feeds served from one node:http server on 127.0.0.1,
 * polled with the real `pollFeed` (real fetchFeed through the SSRF-guarded client, real
 * parseFeedEntries, real SeenStore and FeedStateStore on a throw-away Redis prefix, deleted after).
 *
 * - 304 path: after a priming pass, every feed is polled `notModifiedPasses` times; each poll
 *   reads the feed state, sends a conditional GET, gets 304 and writes the state.
 * - Full path: the server then publishes a new version of every feed (new ETag, 50 new items),
 *   and every feed is polled once: fetch, parse 50 items, check 100 seen members, remember them,
 *   write the state. Fresh items rather than a fresh prefix, so the dedupe lookups run against
 *   sets that already hold the priming pass's 100 000 members, as in production.
 * - Memory: `rememberedItems` synthetic items are remembered in a separate prefix and the seen
 *   sets measured with MEMORY USAGE (all samples).
 *
 * Queueing new items is not part of it (the enqueue step only counts): BullMQ's cost per item is
 * the pipeline benchmark's business. The per-host limit is off too: all 1 000 feeds share one
 * host, and the limit would measure itself rather than the poll path.
 */
export async function benchPoller(options: BenchPollerOptions = {}): Promise<BenchPollerResult> {
  const feeds = options.feeds ?? 1000;
  const itemsPerFeed = options.itemsPerFeed ?? 50;
  const concurrency = options.concurrency ?? 32;
  const notModifiedPasses = options.notModifiedPasses ?? 3;
  const rememberedItems = options.rememberedItems ?? 100_000;
  const log = options.log ?? (() => {});
  const redis = options.redis ?? createRedis(options.redisUrl, 'worker');
  const prefix = `bench-poller-${randomUUID().slice(0, 8)}`;
  const memPrefix = `${prefix}-mem`;
  const server = await startBenchServer(feeds, itemsPerFeed);
  try {
    const policy = createAddressPolicy(['127.0.0.1/32']);
    const state = new FeedStateStore(redis, prefix);
    const seen = new SeenStore(redis, prefix);
    let queued = 0;
    const sources: FeedSource[] = Array.from({ length: feeds }, (_, n) => ({
      id: `bench-${n}`,
      url: `${server.url}/feed/${n}`,
      intervalSeconds: 300,
      enabled: true,
    }));
    const deps = {
      fetch: (url: string, http: Parameters<typeof fetchFeed>[1]) => fetchFeed(url, http, { policy }),
      parse: parseFeedEntries,
      state,
      seen,
      enqueue: async (items: FeedItem[]) => {
        queued += items.length;
      },
      now: () => new Date(),
    };
    const pollAll = async (expect: (o: PollOutcome) => boolean, what: string) =>
      runPool(feeds, concurrency, async (i) => {
        const outcome = await pollFeed(sources[i]!, deps);
        if (!expect(outcome)) throw new Error(`bench: ${what} poll of feed ${i} gave ${JSON.stringify(outcome)}`);
      });
    const isFull = (o: PollOutcome) => o.status === 'ok' && o.newItems === itemsPerFeed;

    const feedBytes = server.publish(1);
    log(`poller bench: ${feeds} feeds × ${itemsPerFeed} items (${(feedBytes / feeds / 1024).toFixed(1)} KiB each)`);
    const primeSeconds = await pollAll(isFull, 'priming');
    log(`  priming pass (full, cold): ${(feeds / primeSeconds).toFixed(0)} polls/s`);

    let notModifiedSeconds = 0;
    const notModifiedCpu = process.cpuUsage();
    for (let pass = 0; pass < notModifiedPasses; pass++) {
      notModifiedSeconds += await pollAll((o) => o.status === 'not-modified', '304');
    }
    const notModifiedPolls = feeds * notModifiedPasses;
    const notModifiedCpuMsPerPoll = notModifiedPolls ? cpuMs(process.cpuUsage(notModifiedCpu)) / notModifiedPolls : 0;
    const notModifiedPollsPerSec = notModifiedPolls ? notModifiedPolls / notModifiedSeconds : 0;
    log(`  304 path: ${notModifiedPollsPerSec.toFixed(0)} polls/s (${notModifiedCpuMsPerPoll.toFixed(2)} CPU ms/poll)`);

    server.publish(2);
    const fullCpu = process.cpuUsage();
    const fullSeconds = await pollAll(isFull, 'full');
    const fullParseCpuMsPerPoll = cpuMs(process.cpuUsage(fullCpu)) / feeds;
    const fullParsePollsPerSec = feeds / fullSeconds;
    log(
      `  full ${itemsPerFeed}-item path: ${fullParsePollsPerSec.toFixed(0)} polls/s (${fullParseCpuMsPerPoll.toFixed(2)} CPU ms/poll)`,
    );
    if (queued !== 2 * feeds * itemsPerFeed)
      throw new Error(`bench: ${queued} items queued, expected ${2 * feeds * itemsPerFeed}`);

    // Memory: a separate prefix holding only the synthetic items.
    const memSeen = new SeenStore(redis, memPrefix);
    const before = await usedMemory(redis);
    const batch = 1000;
    for (let start = 0; start < rememberedItems; start += batch) {
      const members: string[] = [];
      for (let i = start; i < Math.min(start + batch, rememberedItems); i++) {
        members.push(
          ...seenMembers({ id: `i${i.toString(16).padStart(24, '0')}`, url: `https://news.example.com/story/${i}` }),
        );
      }
      await memSeen.add(members);
    }
    const after = await usedMemory(redis);
    let setBytes = 0;
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${bullPrefix(memPrefix)}:seen:*`, 'COUNT', 100);
      cursor = nextCursor;
      for (const key of keys) setBytes += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    } while (cursor !== '0');
    const redisBytesPerRememberedItem = setBytes / rememberedItems;
    log(`  memory: ${redisBytesPerRememberedItem.toFixed(1)} bytes per remembered item`);

    return {
      notModifiedPollsPerSec,
      fullParsePollsPerSec,
      redisBytesPerRememberedItem,
      details: {
        feeds,
        itemsPerFeed,
        concurrency,
        notModifiedPolls,
        fullParsePolls: feeds,
        feedBytes,
        rememberedItems,
        usedMemoryBytesPerRememberedItem: (after - before) / rememberedItems,
        notModifiedCpuMsPerPoll,
        fullParseCpuMsPerPoll,
      },
    };
  } finally {
    await server.close();
    await deleteKeys(redis, `${bullPrefix(prefix)}*`);
    await deleteKeys(redis, `${bullPrefix(memPrefix)}*`);
    if (!options.redis) await redis.quit();
  }
}
