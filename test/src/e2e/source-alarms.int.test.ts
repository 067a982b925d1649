import { randomBytes } from 'node:crypto';
import { type FeedSource, FeedSourceSchema } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { startOpsWorker } from '@regwatch/notifier';
import { createAddressPolicy } from '@regwatch/outbound';
import { nextSlotAt, type PollerHandle, scheduleOffsetMs, startPoller } from '@regwatch/poller';
import { SourceIncidentStore } from '@regwatch/store';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deletePrefix,
  type FeedServer,
  type SmtpSink,
  startFeedServer,
  startSmtpSink,
  startWebhookReceiver,
  testPrefix,
  testRedis,
  type WebhookReceiver,
} from '../helpers/index.js';

/** Polls an async condition every 20 ms until it holds or the deadline passes. */
async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A ministry's announcement list page (written for this test, laid out like a typical government list). */
function listPage(ids: string[]): string {
  const entries = ids
    .map(
      (id) =>
        `<li><a href="/article/${id}.html">关于两用物项出口管制的公告 ${id}</a><span class="date">2026-03-0${id.slice(-1)}</span></li>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>公告</title></head><body><ul class="news-list">${entries}</ul></body></html>`;
}

/** The same announcements after a redesign: the list is now cards, so the configured selectors match nothing. */
function redesignedPage(ids: string[]): string {
  const cards = ids
    .map((id) => `<div class="card"><h3><a href="/article/${id}.html">公告 ${id}</a></h3></div>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>公告</title></head><body><section class="cards">${cards}</section></body></html>`;
}

const HTML = 'text/html; charset=utf-8';

/** A feed id whose hourly slot is over a minute away: the scheduler polls it once at start, then leaves it to the test. */
function quietId(base: string): string {
  for (let i = 0; ; i++) {
    const id = `${base}-${i}`;
    if (nextSlotAt(Date.now(), 3600_000, scheduleOffsetMs(id, 3600_000)) - Date.now() > 60_000) return id;
  }
}

describe('source alarms end to end (real Redis, feed server, SMTP server and webhook receiver)', () => {
  const prefix = testPrefix();
  const redis: Redis = testRedis();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const policy = createAddressPolicy(['127.0.0.0/8']);
  const clock = { ms: Date.parse('2026-03-02T09:00:00Z') };
  const feedId = quietId('ministry-export-control');
  let feeds: FeedServer;
  let hooks: WebhookReceiver;
  let smtp: SmtpSink;
  let poller: PollerHandle;
  let feed: FeedSource;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    feeds = await startFeedServer();
    hooks = await startWebhookReceiver(secret);
    smtp = await startSmtpSink();
    feeds.set('/announcements/', listPage(['2026-1', '2026-2', '2026-3']), HTML);
    feed = FeedSourceSchema.parse({
      id: feedId,
      type: 'html',
      url: `${feeds.url}/announcements/`,
      selectors: { item: 'ul.news-list > li', title: 'a', link: 'a@href', date: 'span.date' },
      title: 'Ministry export-control announcements',
      intervalSeconds: 3600,
    });
    const ops = startOpsWorker({
      connection: redis,
      prefix,
      log: silentLogger(),
      policy,
      channels: { email: { to: ['ops@example.com'] }, webhook: { url: hooks.url, secret } },
      email: { smtpUrl: smtp.url, from: 'regwatch <alerts@regwatch.local>' },
      // One quick retry step, so the webhook's first refusal is retried within the test.
      retrySchedule: [1_000],
    });
    closers.push(() => ops.close());
    poller = await startPoller({
      connection: redis,
      prefix,
      log: silentLogger(),
      policy,
      feeds: () => [feed],
      now: () => new Date(clock.ms),
    });
    closers.push(() => poller.close());
    await waitUntil(
      async () => ((await poller.pollsQueue.getJobCounts('completed')).completed ?? 0) >= 1,
      10_000,
      () => 'the first scheduled poll',
    );
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await Promise.all([feeds.close(), hooks.close(), smtp.close()]);
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  let polls = 0;
  /** One poll through the real worker, an hour after the last one on the alarms' clock. */
  async function pollAnHourLater(): Promise<unknown> {
    clock.ms += 3600_000;
    const job = await poller.pollsQueue.add('poll', { v: 1, feedId }, { jobId: `e2e-${++polls}` });
    let result: unknown;
    await waitUntil(
      async () => {
        const current = await poller.pollsQueue.getJob(job.id!);
        result = current?.returnvalue;
        return current?.finishedOn !== undefined;
      },
      10_000,
      () => `poll ${job.id}`,
    );
    return result;
  }

  /** Every ops job settled: nothing waiting, active or delayed; returns the completed count. */
  async function opsSettled(): Promise<number> {
    let completed = 0;
    await waitUntil(
      async () => {
        const c = await poller.opsQueue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        completed = c.completed ?? 0;
        return (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0;
      },
      15_000,
      () => 'the ops queue to drain',
    );
    return completed;
  }

  it('an html list page whose layout changes sends one "opened" notice per channel, and one "resolved" when fixed', async () => {
    const store = new SourceIncidentStore(redis, prefix);
    expect(await store.get(feedId)).toMatchObject({ hasYielded: true, lastItems: 3 });

    // The site is redesigned: the page still answers 200, but the selectors find no entry.
    feeds.set('/announcements/', redesignedPage(['2026-1', '2026-2', '2026-3']), HTML);
    hooks.failNext(503); // the ops webhook's first attempt fails and is retried; the email is not re-sent
    expect(await pollAnHourLater()).toMatchObject({ status: 'ok', items: 0 });
    expect(await pollAnHourLater()).toEqual({ status: 'not-modified' });
    await smtp.waitFor(1);
    await hooks.waitFor(1);
    // Still empty on later polls: no further notice.
    expect(await pollAnHourLater()).toEqual({ status: 'not-modified' });
    expect(await pollAnHourLater()).toEqual({ status: 'not-modified' });
    expect(await opsSettled()).toBe(3); // one event, two sends
    expect(smtp.received).toHaveLength(1);
    expect(hooks.received).toHaveLength(1);

    const health = await store.get(feedId);
    expect(health.open.empty).toMatchObject({ feedId, kind: 'empty' });
    const incidentId = health.open.empty!.id;

    const opened = smtp.received[0]!;
    expect(opened.envelope.to).toEqual(['ops@example.com']);
    expect(opened.mail.subject).toBe(`[regwatch ops] Source ${feedId} yields no items`);
    expect(opened.mail.text).toContain('Ministry export-control announcements');
    expect(opened.mail.text).toContain('check the selectors or the page layout');
    expect(opened.mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(hooks.received[0]).toMatchObject({
      id: `ops-${incidentId}-opened`,
      payload: {
        type: 'source.incident.opened',
        data: { incidentId, feedId, kind: 'empty', transition: 'opened', feedUrl: feed.url },
      },
    });

    // Fixed (the site reverted, or the selectors were updated): the list is back with one new
    // announcement; the next poll (304) confirms it.
    feeds.set('/announcements/', listPage(['2026-1', '2026-2', '2026-3', '2026-4']), HTML);
    expect(await pollAnHourLater()).toMatchObject({ status: 'ok', items: 4, newItems: 1 });
    expect(await pollAnHourLater()).toEqual({ status: 'not-modified' });
    await smtp.waitFor(2);
    await hooks.waitFor(2);
    expect(await pollAnHourLater()).toEqual({ status: 'not-modified' });
    expect(await opsSettled()).toBe(6);
    expect(smtp.received).toHaveLength(2);
    expect(hooks.received).toHaveLength(2);
    expect(hooks.rejected).toBe(0);

    expect(smtp.received[1]!.mail.subject).toBe(`[regwatch ops] Source ${feedId} recovered (was empty)`);
    expect(hooks.received[1]).toMatchObject({
      id: `ops-${incidentId}-resolved`,
      payload: { type: 'source.incident.resolved', data: { incidentId, kind: 'empty', transition: 'resolved' } },
    });
    expect((hooks.received[1]!.payload.data as { resolvedAt?: string }).resolvedAt).toBeDefined();
    expect((await store.get(feedId)).open).toEqual({});
  });
});
