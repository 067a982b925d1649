import { randomUUID } from 'node:crypto';
import type { FeedSource } from '@regwatch/contracts';
import { bullPrefix, createQueue, createRedis } from '@regwatch/queue';
import type { Queue } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { scheduleOffsetMs } from './poll/slots.js';
import { syncSchedules } from './schedule.js';

const redis = createRedis(process.env.REDIS_URL, 'worker');
const prefixes: string[] = [];
const queues: Queue[] = [];

function pollsQueue(prefix: string, connection = redis): Queue {
  const queue = createQueue('polls', { connection, prefix });
  queues.push(queue);
  return queue;
}

function freshPrefix(): string {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return prefix;
}

afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
});

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${bullPrefix(prefix)}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

const feed = (id: string, intervalSeconds = 300, enabled = true): FeedSource => ({
  id,
  url: `https://feeds.example.org/${id}.xml`,
  intervalSeconds,
  enabled,
});

/** Delayed jobs per scheduler id: one pending run per scheduler is what "once per interval" rests on. */
async function pendingRuns(
  queue: Queue,
  states: Array<'delayed' | 'waiting'> = ['delayed', 'waiting'],
): Promise<Map<string, number>> {
  const runs = new Map<string, number>();
  for (const job of await queue.getJobs(states)) {
    const key = job.repeatJobKey ?? (job.id?.startsWith('first-') ? 'first' : 'other');
    runs.set(key, (runs.get(key) ?? 0) + 1);
  }
  return runs;
}

describe('syncSchedules (real Redis)', () => {
  it('creates one scheduler per enabled feed at its interval and stable offset, plus one first poll', async () => {
    const queue = pollsQueue(freshPrefix());
    const result = await syncSchedules(queue, [feed('a'), feed('b', 900), feed('off', 300, false)]);
    expect(result).toEqual({ upserted: 2, unchanged: 0, removed: 0, firstPolls: 2 });
    const schedulers = await queue.getJobSchedulers(0, -1);
    expect(schedulers.map((s) => [s.key, s.every, s.offset]).sort()).toEqual([
      ['feed-a', 300_000, scheduleOffsetMs('a', 300_000)],
      ['feed-b', 900_000, scheduleOffsetMs('b', 900_000)],
    ]);
    // The next run sits on the feed's own slot: k × every + offset.
    for (const s of schedulers) expect((s.next! - s.offset!) % s.every!).toBe(0);
    const runs = await pendingRuns(queue);
    expect(runs.get('feed-a')).toBe(1);
    expect(runs.get('feed-b')).toBe(1);
    expect(runs.get('first')).toBe(2);
    const first = await queue.getJob(`first-a-${Math.floor(Date.now() / 300_000)}`);
    expect(first?.data).toEqual({ v: 1, feedId: 'a' });
  });

  it('leaves unchanged schedulers alone, applies a new interval, removes stale ones', async () => {
    const queue = pollsQueue(freshPrefix());
    await syncSchedules(queue, [feed('a'), feed('b'), feed('c')]);
    const before = await queue.getJobSchedulers(0, -1);
    const nextOfA = before.find((s) => s.key === 'feed-a')!.next;

    expect(await syncSchedules(queue, [feed('a'), feed('b'), feed('c')])).toEqual({
      upserted: 0,
      unchanged: 3,
      removed: 0,
      firstPolls: 0,
    });

    // b gets a new interval, c is removed, d disabled from the start, a untouched.
    const result = await syncSchedules(queue, [feed('a'), feed('b', 60), feed('d', 300, false)]);
    expect(result).toEqual({ upserted: 1, unchanged: 1, removed: 1, firstPolls: 0 });
    const after = await queue.getJobSchedulers(0, -1);
    expect(after.map((s) => s.key).sort()).toEqual(['feed-a', 'feed-b']);
    expect(after.find((s) => s.key === 'feed-a')!.next).toBe(nextOfA);
    expect(after.find((s) => s.key === 'feed-b')!.every).toBe(60_000);
    const runs = await pendingRuns(queue);
    expect(runs.get('feed-c')).toBeUndefined();
    expect(runs.get('feed-b')).toBe(1);

    // Disabling a feed removes its scheduler too.
    expect((await syncSchedules(queue, [feed('a', 300, false), feed('b', 60)])).removed).toBe(1);
    expect((await queue.getJobSchedulers(0, -1)).map((s) => s.key)).toEqual(['feed-b']);
  });

  it('replaces a scheduler made without an offset, so the feed moves to its own slot', async () => {
    const queue = pollsQueue(freshPrefix());
    await queue.upsertJobScheduler(
      'feed-legacy',
      { every: 300_000 },
      { name: 'poll', data: { v: 1, feedId: 'legacy' } },
    );
    await syncSchedules(queue, [feed('legacy')]);
    const [scheduler] = await queue.getJobSchedulers(0, -1);
    expect(scheduler!.offset).toBe(scheduleOffsetMs('legacy', 300_000));
    expect((scheduler!.next! - scheduler!.offset!) % 300_000).toBe(0);
    // One run on the new slot; the legacy scheduler's due run (waiting, not delayed) still happens.
    expect((await pendingRuns(queue, ['delayed'])).get('feed-legacy')).toBe(1);
  });

  it('two replicas syncing the same list at once end with one scheduler and one pending run per feed', async () => {
    const prefix = freshPrefix();
    const replicaA = pollsQueue(prefix);
    const replicaB = pollsQueue(prefix, redis.duplicate());
    const feeds = Array.from({ length: 20 }, (_, i) => feed(`f${i}`, 30 + i * 7));
    await Promise.all([syncSchedules(replicaA, feeds), syncSchedules(replicaB, feeds)]);
    const schedulers = await replicaA.getJobSchedulers(0, -1);
    expect(schedulers.map((s) => s.key).sort()).toEqual(feeds.map((f) => `feed-${f.id}`).sort());
    const runs = await pendingRuns(replicaA);
    for (const f of feeds) expect(runs.get(`feed-${f.id}`)).toBe(1);
    // A first poll per feed at most: both replicas compute the same job id.
    expect(runs.get('first')).toBe(feeds.length);
  });
});
