import type { FeedSource, PollJob } from '@regwatch/contracts';
import type { Queue } from 'bullmq';

export const SCHEDULER_PREFIX = 'feed-';

/**
 * Makes the BullMQ job schedulers match the feed list: one scheduler per enabled feed, its
 * interval as configured; schedulers of removed or disabled feeds are deleted. Schedulers live
 * in Redis, so they survive restarts, and every poller replica shares them: a feed is polled
 * once per interval however many replicas run.
 */
export async function syncSchedules(
  queue: Queue,
  feeds: readonly FeedSource[],
): Promise<{ upserted: number; removed: number }> {
  const wanted = new Map(feeds.filter((f) => f.enabled).map((f) => [`${SCHEDULER_PREFIX}${f.id}`, f]));
  let upserted = 0;
  for (const [schedulerId, feed] of wanted) {
    const data: PollJob = { v: 1, feedId: feed.id };
    await queue.upsertJobScheduler(
      schedulerId,
      { every: feed.intervalSeconds * 1000 },
      { name: 'poll', data, opts: { attempts: 1, removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } } },
    );
    upserted++;
  }
  let removed = 0;
  const existing = await queue.getJobSchedulers(0, -1);
  for (const scheduler of existing) {
    const id = scheduler.key;
    if (id.startsWith(SCHEDULER_PREFIX) && !wanted.has(id)) {
      await queue.removeJobScheduler(id);
      removed++;
    }
  }
  return { upserted, removed };
}
