import { createServer, type IncomingHttpHeaders } from 'node:http';
import { type FeedSource, itemsOfJob, MAX_ITEMS_PER_JOB } from '@regwatch/contracts';
import { stateKey } from '@regwatch/queue';
import { FeedStateStore } from '@regwatch/store';
import type { Job, Queue } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPollerTestbed, quietIds, waitUntil } from './testing.js';

const bed = createPollerTestbed();
const { redis, freshPrefix } = bed;
afterEach(bed.afterEach);
afterAll(bed.afterAll);

/** A feed server on 127.0.0.1: one RSS document per path, ETags, optional slowness, and what it saw. */
async function startServer(delayMs = 0) {
  const hits = new Map<string, number>();
  const headers: IncomingHttpHeaders[] = [];
  const stats = { inFlight: 0, maxInFlight: 0 };
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    headers.push(req.headers);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    setTimeout(() => {
      stats.inFlight--;
      const etag = `"${path}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      const id = path.slice(1);
      res
        .writeHead(200, { 'content-type': 'application/rss+xml', etag })
        .end(
          `<rss version="2.0"><channel><title>${id}</title><link>https://site.example/</link>` +
            `<item><title>${id} one</title><guid isPermaLink="false">${id}-1</guid><link>https://site.example/${id}/1</link>` +
            `<description>&lt;p&gt;The &lt;a href="/rule"&gt;rule&lt;/a&gt; applies.&lt;/p&gt;</description></item>` +
            `<item><title>${id} two</title><guid isPermaLink="false">${id}-2</guid><link>https://site.example/${id}/2</link></item>` +
            `</channel></rss>`,
        );
    }, delayMs);
  });
  const url = await bed.listen(server);
  return { url, hits, headers, stats };
}

const poller = bed.startPoller;

/** A job's return value once it has finished (polling its state: no event stream to miss). */
async function outcomeOf(queue: Queue, job: Job): Promise<{ status: string; reason?: string }> {
  let current: Job | undefined;
  await waitUntil(async () => {
    current = await queue.getJob(job.id!);
    return current?.finishedOn !== undefined;
  }, `job ${job.id} to finish`);
  if (current!.failedReason) throw new Error(current!.failedReason);
  return current!.returnvalue as { status: string; reason?: string };
}

const feedAt = (base: string, id: string): FeedSource => ({
  id,
  url: `${base}/${id}`,
  intervalSeconds: 3600,
  enabled: true,
});

describe('startPoller (real Redis, local feed servers)', () => {
  it('polls a new feed at once, queues its items, records its health and names itself', async () => {
    const server = await startServer();
    const prefix = freshPrefix();
    const [id] = quietIds('q', 1);
    const p = await poller(prefix, () => [feedAt(server.url, id!)]);
    // A poll's new items go in one `items` job.
    const queued = async () => (await p.itemsQueue.getJobs(['waiting', 'completed'])).map((j) => itemsOfJob(j.data));
    await waitUntil(async () => (await queued()).flat().length === 2, 'two items');
    expect(await queued()).toHaveLength(1);
    // The queue carries the plain-text summary the classifier reads, not the item's HTML.
    const [first] = (await queued()).flat();
    expect(first).toMatchObject({ title: `${id} one`, summary: 'The rule applies.' });
    expect(first).not.toHaveProperty('contentHtml');
    // Items are queued first, the feed's state written last.
    const store = new FeedStateStore(redis, prefix);
    await waitUntil(async () => (await store.get(id!)).lastSuccessAt !== undefined, 'the poll recorded');
    const state = await store.get(id!);
    expect(state).toMatchObject({ lastStatus: 200, consecutiveFailures: 0, itemsSeen: 2, etag: `"/${id}"` });
    expect(Date.parse(state.nextPollAt!)).toBeGreaterThan(Date.now());
    // A User-Agent that names regwatch and where to reach its operators.
    expect(server.headers[0]!['user-agent']).toMatch(/^regwatch\/\S+ \(\+https?:\/\/\S+\)$/);
  });

  it('joins the new items of polls that finish together into shared jobs, and holds no batch for a poll that is over', async () => {
    // Every response comes 150 ms after its request, so the six polls get theirs at about the same moment.
    const server = await startServer(150);
    // And a seventh feed whose document does not parse: its poll fails after the fetch, with no items.
    const broken = await bed.listen(
      createServer((_req, res) => {
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end('<rss><channel>'), 150);
      }),
    );
    const prefix = freshPrefix();
    const ids = quietIds('b', 6);
    const [brokenId] = quietIds('x', 1);
    // A wait far longer than the test: a poll that never let go of its batch would hold it past the timeout.
    const p = await poller(prefix, () => [...ids.map((id) => feedAt(server.url, id)), feedAt(broken, brokenId!)], {
      perHostLimit: 7,
      batchWaitMs: 60_000,
    });
    const jobs = async () => p.itemsQueue.getJobs(['waiting', 'completed']);
    await waitUntil(async () => (await jobs()).flatMap((j) => itemsOfJob(j.data)).length === 12, 'twelve items');
    const queued = await jobs();
    expect(queued.length).toBeLessThan(6);
    expect(new Set(queued.flatMap((j) => itemsOfJob(j.data).map((i) => i.feedId)))).toEqual(new Set(ids));
    for (const job of queued) expect(itemsOfJob(job.data).length).toBeLessThanOrEqual(MAX_ITEMS_PER_JOB);
    // Polled again (all 304 now): nothing new, and nothing waits.
    await p.pollsQueue.addBulk(
      ids.map((feedId) => ({ name: 'poll', data: { v: 1, feedId }, opts: { jobId: `again-${feedId}` } })),
    );
    await waitUntil(async () => (await p.pollsQueue.getCompletedCount()) >= 12, 'the second polls');
    expect((await jobs()).length).toBe(queued.length);
  });

  it('during a rolling update, while a classifier of a release before item batches is live, queues one v1 job per item', async () => {
    const server = await startServer();
    const prefix = freshPrefix();
    const [id] = quietIds('q', 1);
    // An older classifier's heartbeat: no `reads`, so it would fail a `{v: 2, items}` job.
    const old = {
      service: 'classifier',
      instance: 'old-1',
      pid: 1,
      at: new Date().toISOString(),
      rssBytes: 1,
      heapUsedBytes: 1,
    };
    await redis.set(stateKey(prefix, 'heartbeat', 'classifier', 'old-1'), JSON.stringify(old), 'EX', 20);
    const p = await poller(prefix, () => [feedAt(server.url, id!)]);
    const queued = async () => p.itemsQueue.getJobs(['waiting', 'completed']);
    await waitUntil(async () => (await queued()).length === 2, 'two item jobs');
    const jobs = await queued();
    expect(jobs.map((j) => j.data.v)).toEqual([1, 1]);
    expect(jobs.map((j) => j.id).every((jobId) => /^item-i[0-9a-f]{24}$/.test(jobId ?? ''))).toBe(true);
  });

  it('applies a changed feed list without a restart: new feed polled, removed feed unscheduled', async () => {
    const server = await startServer();
    const prefix = freshPrefix();
    const [a, b] = quietIds('q', 2);
    let feeds: FeedSource[] = [feedAt(server.url, a!)];
    const p = await poller(prefix, () => feeds, { resyncIntervalMs: 50 });
    await waitUntil(() => server.hits.get(`/${a}`) === 1, 'the first feed polled');

    feeds = [feedAt(server.url, b!)]; // what a config reload does to the getter
    await waitUntil(() => server.hits.get(`/${b}`) === 1, 'the added feed polled');
    await waitUntil(
      async () => (await p.pollsQueue.getJobSchedulers(0, -1)).map((s) => s.key).join() === `feed-${b}`,
      'the removed feed unscheduled',
    );
    // A poll job left for the removed feed is skipped, not failed.
    const job = await p.pollsQueue.add('poll', { v: 1, feedId: a });
    expect(await outcomeOf(p.pollsQueue, job)).toMatchObject({ status: 'skipped', reason: 'not-configured' });
    expect(server.hits.get(`/${a}`)).toBe(1);
  });

  it('two pollers sharing one Redis poll each feed once, and never one feed at the same time', async () => {
    const server = await startServer(300);
    const prefix = freshPrefix();
    const ids = quietIds('q', 4);
    const feeds = ids.map((id) => feedAt(server.url, id));
    const one = await poller(prefix, () => feeds);
    await poller(prefix, () => feeds);
    const state = new FeedStateStore(redis, prefix);
    await waitUntil(
      async () => (await Promise.all(ids.map((id) => state.get(id)))).every((s) => s.lastSuccessAt),
      'every feed polled',
    );
    expect((await one.pollsQueue.getJobSchedulers(0, -1)).length).toBe(4);
    await new Promise((r) => setTimeout(r, 300));
    for (const id of ids) expect(server.hits.get(`/${id}`)).toBe(1);

    // Two jobs for one feed at once (a manual poll during a scheduled one): the lock lets one through.
    const jobs = await one.pollsQueue.addBulk([
      { name: 'poll', data: { v: 1, feedId: ids[0] } },
      { name: 'poll', data: { v: 1, feedId: ids[0] } },
    ]);
    const outcomes = await Promise.all(jobs.map((j) => outcomeOf(one.pollsQueue, j)));
    expect(outcomes.map((o) => o.status).sort()).toEqual(['not-modified', 'skipped']);
    expect(outcomes.find((o) => o.status === 'skipped')).toMatchObject({ reason: 'locked' });
    expect(server.hits.get(`/${ids[0]}`)).toBe(2);
  });

  it('keeps at most perHostLimit requests in flight to one host across pollers, and polls every feed', async () => {
    const server = await startServer(250);
    const prefix = freshPrefix();
    const ids = quietIds('q', 6);
    const feeds = ids.map((id) => feedAt(server.url, id));
    const opts = { perHostLimit: 2, hostWaitMs: 50, concurrency: 6 };
    await poller(prefix, () => feeds, opts);
    await poller(prefix, () => feeds, opts);
    await waitUntil(() => ids.every((id) => server.hits.get(`/${id}`) === 1), 'every feed polled', 20_000);
    expect(server.stats.maxInFlight).toBe(2);
  });
});
