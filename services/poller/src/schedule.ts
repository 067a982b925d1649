import type { FeedSource, PollJob } from '@regwatch/contracts';
import type { JobsOptions, Queue } from 'bullmq';
import { scheduleOffsetMs } from './poll/slots.js';

export const SCHEDULER_PREFIX = 'feed-';

/** Poll jobs are never retried by BullMQ: the next slot is the retry, and pollFeed backs off. */
export const POLL_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

export interface SyncResult {
  /** Schedulers created or changed (new feed, new interval). */
  upserted: number;
  /** Schedulers already as wanted, left alone. */
  unchanged: number;
  removed: number;
  /** Immediate first polls queued for feeds that had no scheduler. */
  firstPolls: number;
}

/**
 * Makes the BullMQ job schedulers match the feed list: one scheduler per enabled feed, id
 * `feed-<feedId>`; schedulers of removed or disabled feeds are deleted. Schedulers live in
 * Redis, so they survive restarts, and every poller replica shares them: a feed gets one job
 * per interval however many replicas run, and two replicas syncing the same list converge on
 * the same schedulers.
 *
 * Jitter: each scheduler runs `every` interval at a stable per-feed offset (BullMQ 5.81's
 * `every` + `offset`, runs at `k × every + offset`), so feeds sharing an interval are spread over
 * it instead of all firing together after a deploy. A feed seen for the first time also gets one
 * immediate poll (deterministic job id, so concurrent syncs queue it once), since its first slot
 * may be up to an interval away.
 */
export async function syncSchedules(queue: Queue, feeds: readonly FeedSource[], now = Date.now()): Promise<SyncResult> {
  const wanted = new Map(feeds.filter((f) => f.enabled).map((f) => [`${SCHEDULER_PREFIX}${f.id}`, f]));
  const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  const result: SyncResult = { upserted: 0, unchanged: 0, removed: 0, firstPolls: 0 };
  for (const [schedulerId, feed] of wanted) {
    const every = feed.intervalSeconds * 1000;
    const offset = scheduleOffsetMs(feed.id, every);
    const current = existing.get(schedulerId);
    if (current && current.every === every && current.offset === offset) {
      result.unchanged++;
      continue;
    }
    const data: PollJob = { v: 1, feedId: feed.id };
    // An upsert keeps the old slot when only the offset differs (BullMQ carries the previous
    // run time forward), so a scheduler from before offsets is replaced outright.
    if (current && current.every === every) await queue.removeJobScheduler(schedulerId);
    await queue.upsertJobScheduler(schedulerId, { every, offset }, { name: 'poll', data, opts: POLL_JOB_OPTIONS });
    result.upserted++;
    if (!current) {
      // One per feed and interval slot: replicas starting together add it once.
      const jobId = `first-${feed.id}-${Math.floor(now / every)}`;
      await queue.add('poll', data, { ...POLL_JOB_OPTIONS, jobId });
      result.firstPolls++;
    }
  }
  for (const id of existing.keys()) {
    if (id.startsWith(SCHEDULER_PREFIX) && !wanted.has(id)) {
      await queue.removeJobScheduler(id);
      result.removed++;
    }
  }
  return result;
}
