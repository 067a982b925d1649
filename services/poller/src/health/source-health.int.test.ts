import { createServer } from 'node:http';
import { type FeedSource, FeedSourceSchema, OpsEventJobSchema } from '@regwatch/contracts';
import { SourceIncidentStore } from '@regwatch/store';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPollerTestbed, quietIds } from '../testing.js';
import { DEFAULT_INCIDENT_THRESHOLDS } from './incidents.js';

const bed = createPollerTestbed();
const { redis } = bed;
const DAY = 86_400_000;
afterEach(bed.afterEach);
afterAll(bed.afterAll);

function rss(ids: string[]): string {
  const items = ids
    .map(
      (id) =>
        `<item><title>Notice ${id}</title><guid isPermaLink="false">${id}</guid><link>https://gov.example/${id}</link></item>`,
    )
    .join('');
  return `<rss version="2.0"><channel><title>Notices</title><link>https://gov.example/</link>${items}</channel></rss>`;
}

/** One document on 127.0.0.1, replaceable; its ETag changes with it, so an unchanged document answers 304. */
async function startDocServer() {
  const doc = { body: rss([]), version: 0 };
  const server = createServer((req, res) => {
    const etag = `"v${doc.version}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml', etag }).end(doc.body);
  });
  const base = await bed.listen(server);
  return {
    url: `${base}/notices.xml`,
    set(body: string) {
      doc.body = body;
      doc.version++;
    },
  };
}

/** `<base>-<n>` whose hourly slot is over a minute away, so the scheduler polls nothing while the test runs its own. */
const quietId = (base: string): string => quietIds(`${base}-`, 1)[0]!;

async function setup(
  feedId: string,
  url: string,
  clock: { ms: number },
  thresholds = DEFAULT_INCIDENT_THRESHOLDS,
  seed?: (store: SourceIncidentStore) => Promise<void>,
) {
  const prefix = bed.freshPrefix();
  const store = new SourceIncidentStore(redis, prefix);
  await seed?.(store);
  const feed: FeedSource = FeedSourceSchema.parse({ id: feedId, url, intervalSeconds: 3600, title: 'Gov notices' });
  const handle = await bed.startPoller(prefix, () => [feed], {
    incidentThresholds: thresholds,
    now: () => new Date(clock.ms),
  });
  // The scheduler polls a new feed at once: let that first poll finish before the test runs its own.
  const deadline = Date.now() + 10_000;
  while (((await handle.pollsQueue.getJobCounts('completed')).completed ?? 0) < 1) {
    if (Date.now() > deadline) throw new Error('the first scheduled poll did not finish');
    await new Promise((r) => setTimeout(r, 20));
  }
  let n = 0;
  /** Runs one poll through the real worker and returns its outcome. */
  const poll = async (): Promise<{ status: string }> => {
    const job = await handle.pollsQueue.add('poll', { v: 1, feedId }, { jobId: `manual-${feedId}-${++n}` });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const current = await handle.pollsQueue.getJob(job.id!);
      if (current?.finishedOn !== undefined) {
        if (current.failedReason) return { status: `failed: ${current.failedReason}` };
        return current.returnvalue as { status: string };
      }
      if (Date.now() > deadline) throw new Error(`poll ${job.id} did not finish`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const opsJobs = async () =>
    (await handle.opsQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).map((j) => ({
      id: j.id,
      name: j.name,
      data: OpsEventJobSchema.parse(j.data),
    }));
  return { feedId, poll, opsJobs, store, prefix };
}

describe('source alarms in the poller worker', () => {
  it('a source whose document goes from items to none opens `empty` once, and recovers once', async () => {
    const server = await startDocServer();
    server.set(rss(['a1', 'a2', 'a3']));
    const clock = { ms: Date.parse('2026-03-02T08:00:00Z') };
    // The scheduler's first poll takes the three items.
    const t = await setup(quietId('gov-notices'), server.url, clock, {
      ...DEFAULT_INCIDENT_THRESHOLDS,
      recoverAfter: 1,
    });
    expect(await t.store.get(t.feedId)).toMatchObject({ hasYielded: true, lastItems: 3 });
    server.set(rss([]));
    clock.ms += 3600_000;
    expect(await t.poll()).toMatchObject({ status: 'ok', items: 0 });
    expect(await t.opsJobs()).toEqual([]);
    clock.ms += 3600_000;
    expect(await t.poll()).toEqual({ status: 'not-modified' });
    const opened = await t.opsJobs();
    expect(opened).toHaveLength(1);
    const incidentId = `${t.feedId}-empty-${clock.ms}`;
    expect(opened[0]).toMatchObject({
      id: `ops-${incidentId}-opened`,
      name: 'event',
      data: {
        transition: 'opened',
        feedName: 'Gov notices',
        feedUrl: server.url,
        incident: { id: incidentId, feedId: t.feedId, kind: 'empty' },
      },
    });
    expect((await t.store.get(t.feedId)).open.empty?.id).toBe(incidentId);
    // The empty page unchanged (304) again: still one notice.
    clock.ms += 3600_000;
    expect(await t.poll()).toEqual({ status: 'not-modified' });
    expect(await t.opsJobs()).toHaveLength(1);
    server.set(rss(['a1', 'a2', 'a3', 'a4']));
    clock.ms += 3600_000;
    expect(await t.poll()).toMatchObject({ status: 'ok', newItems: 1 });
    const all = await t.opsJobs();
    expect(all.map((j) => j.id).sort()).toEqual([`ops-${incidentId}-opened`, `ops-${incidentId}-resolved`]);
    const health = await t.store.get(t.feedId);
    expect(health.open).toEqual({});
    expect(health.pending).toEqual([]);
  });

  it('a 304 poll still checks for silence against the learnt cadence', async () => {
    const server = await startDocServer();
    server.set(rss(['d1']));
    const start = Date.parse('2026-03-10T08:00:00Z');
    const clock = { ms: start };
    // Six daily arrivals already learnt, the last one yesterday; the first poll (now) brings d1.
    const t0Id = quietId('daily-notices');
    const t = await setup(t0Id, server.url, clock, DEFAULT_INCIDENT_THRESHOLDS, async (store) => {
      for (let d = 6; d >= 1; d--) await store.save(t0Id, await store.get(t0Id), start - d * DAY);
    });
    expect((await t.store.get(t.feedId)).cadence).toMatchObject({ gaps: 6, p90Ms: DAY, silentAfterMs: 4 * DAY });
    clock.ms = start + 3 * DAY;
    expect(await t.poll()).toEqual({ status: 'not-modified' });
    expect(await t.opsJobs()).toEqual([]);
    clock.ms = start + 4 * DAY + 60_000;
    expect(await t.poll()).toEqual({ status: 'not-modified' });
    const jobs = await t.opsJobs();
    expect(jobs.map((j) => `${j.data.transition}:${j.data.incident.kind}`)).toEqual(['opened:silent']);
    expect(jobs[0]!.data.incident.detail).toMatch(/^no new item for 4 days/);
  });

  it('a document that stops parsing opens `failing` with the parse error', async () => {
    const server = await startDocServer();
    server.set(rss(['b1']));
    const clock = { ms: Date.parse('2026-03-20T08:00:00Z') };
    const t = await setup(quietId('broken-notices'), server.url, clock, {
      ...DEFAULT_INCIDENT_THRESHOLDS,
      failingAfter: 1,
    });
    server.set('<html><body>We have moved!</body></html>');
    clock.ms += 3600_000;
    expect((await t.poll()).status).toMatch(/^failed: /);
    const jobs = await t.opsJobs();
    expect(jobs.map((j) => `${j.data.transition}:${j.data.incident.kind}`)).toEqual(['opened:failing']);
    expect(jobs[0]!.data.incident.detail).toMatch(/^1 polls in a row failed; the last with FEED_/);
  });
});
