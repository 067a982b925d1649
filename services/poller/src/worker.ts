import {
  type FeedItem,
  type FeedSource,
  type ItemJob,
  PermanentError,
  PollJobSchema,
  QUEUES,
} from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import type { AddressPolicy } from '@regwatch/outbound';
import { createQueue, startWorker, type WorkerHandle } from '@regwatch/queue';
import { FeedStateStore } from '@regwatch/store';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { fetchFeed, parseFeed } from './feed/index.js';
import { pollFeed } from './poll/poll-feed.js';
import { SeenStore } from './poll/seen-store.js';
import { syncSchedules } from './schedule.js';

export interface PollerDeps {
  connection: Redis;
  prefix: string;
  log: Logger;
  policy: AddressPolicy;
  /** Looks up a feed by id at poll time, so config changes apply to the next poll. */
  feeds: () => readonly FeedSource[];
  concurrency?: number;
  userAgent?: string;
}

export interface PollerHandle {
  pollsQueue: Queue;
  itemsQueue: Queue;
  /** Re-reads the feed list into the job schedulers (on start and on config reload). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Thin BullMQ wiring around `pollFeed`: one poll job → one feed fetched, new items queued. */
export async function startPoller(deps: PollerDeps): Promise<PollerHandle> {
  const pollsQueue = createQueue(QUEUES.polls, { connection: deps.connection, prefix: deps.prefix });
  const itemsQueue = createQueue(QUEUES.items, { connection: deps.connection, prefix: deps.prefix });
  const state = new FeedStateStore(deps.connection, deps.prefix);
  const seen = new SeenStore(deps.connection, deps.prefix);
  const enqueue = async (items: FeedItem[]) => {
    await itemsQueue.addBulk(
      items.map((item) => ({
        name: 'item',
        data: { v: 1, item } satisfies ItemJob,
        opts: { jobId: `item-${item.id}` },
      })),
    );
  };
  const worker: WorkerHandle = startWorker(
    {
      queue: QUEUES.polls,
      schema: PollJobSchema,
      concurrency: deps.concurrency ?? 16,
      handle: async ({ feedId }, { log }) => {
        const feed = deps.feeds().find((f) => f.id === feedId);
        if (!feed) throw new PermanentError('FEED_UNKNOWN', `feed "${feedId}" is not configured`);
        const outcome = await pollFeed(feed, {
          fetch: (url, http) =>
            fetchFeed(url, http, { policy: deps.policy, ...(deps.userAgent ? { userAgent: deps.userAgent } : {}) }),
          parse: parseFeed,
          state,
          seen,
          enqueue,
          now: () => new Date(),
        });
        log.info({ feedId, ...outcome }, 'feed polled');
        return outcome;
      },
    },
    { connection: deps.connection, prefix: deps.prefix, log: deps.log },
  );
  const sync = async () => {
    const result = await syncSchedules(pollsQueue, deps.feeds());
    deps.log.info(result, 'feed schedules synced');
  };
  await sync();
  return {
    pollsQueue,
    itemsQueue,
    sync,
    close: async () => {
      await worker.close();
      await pollsQueue.close();
      await itemsQueue.close();
    },
  };
}
