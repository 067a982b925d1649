import { createServer } from 'node:http';
import { type FeedItem, type FeedSource, FeedSourceSchema, type ItemJob, itemsOfJob } from '@regwatch/contracts';
import { createAddressPolicy } from '@regwatch/outbound';
import { stateKey } from '@regwatch/queue';
import { FeedStateStore } from '@regwatch/store';
import type { Job, Queue } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  FEDERAL_REGISTER_JSON,
  gbk,
  MINISTRY_LIST_HTML,
  PRESS_LIST_HTML,
  supplementPage,
} from './feed/__fixtures__/source-pages.js';
import { createPollerTestbed, quietIds, waitUntil } from './testing.js';
import type { PollerHandle } from './worker.js';

const bed = createPollerTestbed();
const { redis } = bed;
afterEach(bed.afterEach);
afterAll(bed.afterAll);

/** A loopback server: a document per path with its content type, ETags, and a count of requests. */
async function startServer() {
  const docs = new Map<string, { body: Buffer; type: string; etag: string }>();
  const hits = new Map<string, number>();
  let version = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const doc = docs.get(path);
    if (!doc) return void res.writeHead(404).end();
    if (req.headers['if-none-match'] === doc.etag) return void res.writeHead(304, { etag: doc.etag }).end();
    res.writeHead(200, { 'content-type': doc.type, etag: doc.etag }).end(doc.body);
  });
  const url = await bed.listen(server);
  return {
    url,
    hits,
    set(path: string, body: string | Buffer, type: string) {
      docs.set(path, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), type, etag: `"v${++version}"` });
    },
  };
}

/** Runs one poll of a feed now and returns its outcome (or its failure). */
async function pollNow(
  p: PollerHandle,
  feedId: string,
): Promise<{ status: string; newItems?: number } | { failed: string }> {
  const job: Job = await p.pollsQueue.add('poll', { v: 1, feedId });
  let current: Job | undefined;
  await waitUntil(async () => {
    current = await p.pollsQueue.getJob(job.id!);
    return current?.finishedOn !== undefined;
  }, `poll of ${feedId}`);
  return current!.failedReason ? { failed: current!.failedReason } : current!.returnvalue;
}

async function queuedItems(queue: Queue): Promise<FeedItem[]> {
  const jobs = await queue.getJobs(['waiting', 'completed', 'active', 'delayed', 'prioritized']);
  return jobs.flatMap((j) => itemsOfJob(j.data as ItemJob));
}

describe('source types through the real poller (Redis, loopback server)', () => {
  it('html, federalregister and page: queued once, nothing new on a re-poll, 304 handled, page changes alerted', async () => {
    const server = await startServer();
    // No charset in the header: the page's own <meta http-equiv> says GB2312.
    server.set('/zcfb/index.shtml', gbk(MINISTRY_LIST_HTML), 'text/html');
    server.set('/api/v1/documents.json', FEDERAL_REGISTER_JSON, 'application/json; charset=utf-8');
    server.set('/supp4', supplementPage([['China', 'Alpha Tech Co.']]), 'text/html; charset=utf-8');
    const [htmlId, frId, pageId] = quietIds('s', 3);
    const feeds: FeedSource[] = [
      {
        id: htmlId!,
        type: 'html',
        url: `${server.url}/zcfb/index.shtml`,
        selectors: { item: 'ul.list li', title: 'a', link: 'a@href', date: 'span.time' },
        jurisdiction: 'CN',
        lang: 'zh',
      },
      { id: frId!, type: 'federalregister', url: `${server.url}/api/v1/documents.json?conditions[agencies][]=x` },
      { id: pageId!, type: 'page', url: `${server.url}/supp4`, selector: '#supplement-list', title: 'Supplement 4' },
    ].map((f) => FeedSourceSchema.parse({ intervalSeconds: 3600, ...f }));
    const prefix = bed.freshPrefix();
    const p = await bed.startPoller(prefix, () => feeds);
    const state = new FeedStateStore(redis, prefix);
    await waitUntil(
      async () => (await Promise.all(feeds.map((f) => state.get(f.id)))).every((s) => s.lastSuccessAt !== undefined),
      'every source polled once',
    );

    let items = await queuedItems(p.itemsQueue);
    const byFeed = (id: string) => items.filter((i) => i.feedId === id);
    expect(byFeed(htmlId!).map((i) => i.title)).toContain('公告2025年第61号 关于对稀土相关物项实施出口管制的决定');
    expect(byFeed(htmlId!)).toHaveLength(4);
    expect(
      byFeed(frId!)
        .map((i) => i.federalRegister?.documentNumber)
        .sort(),
    ).toEqual(['2025-16500', '2025-16840', '2025-17001']);
    // The page's first poll only remembers its region.
    expect(byFeed(pageId!)).toEqual([]);
    expect(await state.pageBaseline(pageId!)).toMatchObject({
      text: 'Entity List\nCountry Entity\nChina Alpha Tech Co.',
    });
    // The region text is kept apart from the health hash, and expires if the source goes away.
    expect(await state.get(pageId!)).not.toHaveProperty('text');
    expect(await redis.ttl(stateKey(prefix, 'page', pageId!))).toBeGreaterThan(179 * 24 * 3600);

    // Unchanged documents: the server answers 304.
    for (const f of feeds) expect(await pollNow(p, f.id)).toEqual({ status: 'not-modified' });

    // Same content under a new ETag: parsed again, nothing new queued.
    server.set('/zcfb/index.shtml', gbk(MINISTRY_LIST_HTML), 'text/html');
    server.set('/api/v1/documents.json', FEDERAL_REGISTER_JSON, 'application/json; charset=utf-8');
    server.set('/supp4', supplementPage([['China', 'Alpha Tech Co.']]), 'text/html; charset=utf-8');
    expect(await pollNow(p, htmlId!)).toMatchObject({ status: 'ok', items: 4, newItems: 0 });
    expect(await pollNow(p, frId!)).toMatchObject({ status: 'ok', items: 3, newItems: 0 });
    expect(await pollNow(p, pageId!)).toMatchObject({ status: 'ok', items: 0, newItems: 0 });

    // The region changes: one item with the diff; then it changes again: a second one.
    server.set(
      '/supp4',
      supplementPage([
        ['China', 'Alpha Tech Co.'],
        ['Iran', 'Delta Trading'],
      ]),
      'text/html',
    );
    expect(await pollNow(p, pageId!)).toMatchObject({ status: 'ok', newItems: 1 });
    server.set('/supp4', supplementPage([['Iran', 'Delta Trading']]), 'text/html');
    expect(await pollNow(p, pageId!)).toMatchObject({ status: 'ok', newItems: 1 });
    items = await queuedItems(p.itemsQueue);
    expect(
      byFeed(pageId!)
        .sort((a, b) => a.summary.localeCompare(b.summary))
        .map((i) => [i.title, i.summary]),
    ).toEqual([
      ['Supplement 4: page changed (+1 −0 lines)', 'Added:\n+ Iran Delta Trading'],
      ['Supplement 4: page changed (+0 −1 lines)', 'Removed:\n- China Alpha Tech Co.'],
    ]);
    expect(await state.get(htmlId!)).toMatchObject({ consecutiveFailures: 0, itemsSeen: 4 });
  });

  it('hostile pages: a region that vanished fails the poll, an empty selector match yields zero items, a huge page is refused', async () => {
    const server = await startServer();
    server.set('/press', PRESS_LIST_HTML, 'text/html');
    server.set('/supp4', '<html><body><p>We moved the list.</p></body></html>', 'text/html');
    server.set(
      '/huge',
      `<html><body><ul>${'<li><a href="/x">x</a></li>'.repeat(300_000)}</ul></body></html>`,
      'text/html',
    );
    const [emptyId, pageId, hugeId] = quietIds('s', 3);
    const feeds: FeedSource[] = [
      {
        id: emptyId!,
        type: 'html',
        url: `${server.url}/press`,
        selectors: { item: 'li.gone', title: 'a', link: 'a@href' },
      },
      { id: pageId!, type: 'page', url: `${server.url}/supp4`, selector: '#supplement-list' },
      { id: hugeId!, type: 'html', url: `${server.url}/huge`, selectors: { item: 'li', title: 'a', link: 'a@href' } },
    ].map((f) => FeedSourceSchema.parse({ intervalSeconds: 3600, ...f }));
    const prefix = bed.freshPrefix();
    const p = await bed.startPoller(prefix, () => feeds);
    const state = new FeedStateStore(redis, prefix);
    await waitUntil(
      async () => (await Promise.all(feeds.map((f) => state.get(f.id)))).every((s) => s.lastAttemptAt !== undefined),
      'every source polled once',
    );
    expect(await state.get(emptyId!)).toMatchObject({ consecutiveFailures: 0, lastStatus: 200 });
    expect(await state.get(pageId!)).toMatchObject({
      consecutiveFailures: 1,
      lastError: 'FEED_PARSE: selector: "#supplement-list" matches nothing on the page',
    });
    expect((await state.get(hugeId!)).lastError).toMatch(/^OUTBOUND_TOO_LARGE: /);
    expect(await p.itemsQueue.count()).toBe(0);
  });

  it('keeps the SSRF guard: a source on a loopback address not allowed is refused before any request', async () => {
    const server = await startServer();
    server.set('/press', PRESS_LIST_HTML, 'text/html');
    const [id] = quietIds('s', 1);
    const feeds = [
      FeedSourceSchema.parse({
        id,
        type: 'html',
        url: `${server.url}/press`,
        intervalSeconds: 3600,
        selectors: { item: 'div.views-row', title: 'h3 a', link: 'h3 a@href' },
      }),
    ];
    const prefix = bed.freshPrefix();
    await bed.startPoller(prefix, () => feeds, { policy: createAddressPolicy([]) });
    const state = new FeedStateStore(redis, prefix);
    await waitUntil(async () => (await state.get(id!)).lastAttemptAt !== undefined, 'the poll');
    expect((await state.get(id!)).lastError).toMatch(/^OUTBOUND_BLOCKED_ADDRESS: /);
    expect(server.hits.get('/press')).toBeUndefined();
  });
});
