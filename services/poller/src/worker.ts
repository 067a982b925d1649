import { createHash } from 'node:crypto';
import {
  type FeedItem,
  type FeedSource,
  type ItemJob,
  MAX_ITEMS_PER_JOB,
  type OpsEventJob,
  type PollJob,
  PollJobSchema,
  QUEUES,
} from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import type { AddressPolicy } from '@regwatch/outbound';
import {
  createQueue,
  createShapeGate,
  duplicateRedis,
  JOB_SHAPES,
  startWorker,
  type WorkerHandle,
} from '@regwatch/queue';
import { FeedStateStore, SourceIncidentStore } from '@regwatch/store';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { fetchFeed, parseSourceDocument } from './feed/index.js';
import type { IncidentThresholds, PollObservation } from './health/incidents.js';
import { observePoll, opsJobId } from './health/source-health.js';
import { FeedLock } from './poll/feed-lock.js';
import { HostLimiter, hostKey } from './poll/host-limiter.js';
import { type BatchTicket, ItemBatcher } from './poll/item-batcher.js';
import { type PollOutcome, pollFeed } from './poll/poll-feed.js';
import { SeenStore } from './poll/seen-store.js';
import { POLL_JOB_OPTIONS, type SyncResult, syncSchedules } from './schedule.js';

export interface PollerDeps {
  connection: Redis;
  prefix: string;
  log: Logger;
  policy: AddressPolicy;
  /**
   * The feed list, read again at every poll and every re-sync: a getter whose result changes
   * (config reload, an API later) takes effect without a restart.
   */
  feeds: () => readonly FeedSource[];
  /** Polls at once in this process. Default 16. */
  concurrency?: number;
  /**
   * Polls at once across every replica (BullMQ's queue-wide global concurrency, kept in Redis).
   * Unset: no cap beyond replicas × `concurrency`.
   */
  globalConcurrency?: number;
  /** Requests at once to one host across every replica. Default 2. */
  perHostLimit?: number;
  /** How long a poll waits for a busy host before it is re-queued. Default 2 s. */
  hostWaitMs?: number;
  /** How often the feed list is checked for changes. Default 30 s. */
  resyncIntervalMs?: number;
  /** How long an item is remembered as seen. Default 90 days (REGWATCH_SEEN_RETENTION_DAYS). */
  seenRetentionDays?: number;
  userAgent?: string;
  /** Source alarm thresholds (REGWATCH_SOURCE_*); default {@link DEFAULT_INCIDENT_THRESHOLDS}. */
  incidentThresholds?: IncidentThresholds;
  /** Clock for the source alarms (tests). */
  now?: () => Date;
  /**
   * How long new items wait at most for polls finishing alongside, to share an `items` job.
   * Default {@link DEFAULT_BATCH_WAIT_MS}; 0 still joins polls that finish in the same moment.
   */
  batchWaitMs?: number;
}

/** Longest wait of a poll's new items for others to share their `items` job: a few ms against alerts due within minutes. */
export const DEFAULT_BATCH_WAIT_MS = 10;

export interface PollerHandle {
  pollsQueue: Queue;
  itemsQueue: Queue;
  opsQueue: Queue;
  /** Makes the job schedulers match the feed list now (on start, on config reload). */
  sync(): Promise<SyncResult>;
  close(): Promise<void>;
}

export type PollJobOutcome =
  | PollOutcome
  | { status: 'skipped'; reason: 'not-configured' | 'locked'; detail: string }
  | { status: 'deferred'; reason: 'host-busy'; detail: string };

/** The `items` job id of a batch: `items-` and a digest of its item ids, in order. */
export function itemsJobId(items: readonly FeedItem[]): string {
  const digest = createHash('sha256');
  for (const item of items) digest.update(item.id).update('\n');
  return `items-${digest.digest('hex').slice(0, 32)}`;
}

/**
 * A feed item as the items queue carries it: all but its `contentHtml`. Nothing after the poller
 * reads that HTML (the classifier reads the title and the plain-text summary; alerts, emails and
 * webhooks carry those), and it is the largest field by far: up to 100,000 characters per item
 * for a feed with full articles, in every `items` job, which Redis keeps for 24 hours (up to
 * 10,000 jobs) for the ops view. Parsing a source (`regwatch preview`, the api) still gives it.
 */
export function queuedItem(item: FeedItem): FeedItem {
  if (item.contentHtml === undefined) return item;
  const { contentHtml: _html, ...rest } = item;
  return rest;
}

/** What decides the schedulers: a change to anything else is read at poll time and needs no sync. */
export function feedListHash(feeds: readonly FeedSource[]): string {
  const shape = feeds.map((f) => [f.id, f.intervalSeconds, f.enabled]);
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex');
}

/**
 * Thin BullMQ wiring around `pollFeed`: one poll job → one feed fetched, new items queued.
 *
 * Around each poll: a per-feed Redis lock (two replicas never poll one feed at once), a
 * Redis-counted per-host limit on the fetch (`HostLimiter`; a poll that finds its host busy is
 * re-queued a moment later instead of blocking a worker slot), and the worker's concurrency.
 */
export async function startPoller(deps: PollerDeps): Promise<PollerHandle> {
  const pollsQueue = createQueue(QUEUES.polls, { connection: deps.connection, prefix: deps.prefix });
  const itemsQueue = createQueue(QUEUES.items, { connection: deps.connection, prefix: deps.prefix });
  const opsQueue = createQueue(QUEUES.ops, { connection: deps.connection, prefix: deps.prefix });
  // regwatch's own state (feed state, seen items, locks, host slots) on its own connection: BullMQ
  // defines its scripts on the connection it is given and ioredis copies them onto every multi()
  // made from it. ioredis
  // auto-pipelining is off on purpose: it crashed a poller in the chaos suite (`results[i] is not iterable`, redis/ioredis#1931) and breaks EVALSHA on a Redis Cluster (redis/ioredis#2109).
  const redis = duplicateRedis(deps.connection, {});
  redis.on('error', (err) => deps.log.warn({ err: err.message }, 'redis connection error'));
  const state = new FeedStateStore(redis, deps.prefix);
  const seen = new SeenStore(redis, deps.prefix, {
    retentionSeconds: (deps.seenRetentionDays ?? 90) * 24 * 3600,
  });
  const lock = new FeedLock(redis, deps.prefix);
  const hosts = new HostLimiter(redis, deps.prefix, {
    ...(deps.perHostLimit !== undefined ? { limit: deps.perHostLimit } : {}),
    ...(deps.hostWaitMs !== undefined ? { maxWaitMs: deps.hostWaitMs } : {}),
  });
  const incidents = new SourceIncidentStore(redis, deps.prefix);
  const now = deps.now ?? (() => new Date());
  // Source alarms after every poll; a failure here is logged and never fails the poll itself.
  const observeHealth = async (feed: FeedSource, observation: PollObservation, log: Logger) => {
    try {
      const changes = await observePoll(feed, observation, {
        store: incidents,
        enqueueOps: async (jobs: OpsEventJob[]) => {
          await opsQueue.addBulk(jobs.map((data) => ({ name: 'event', data, opts: { jobId: opsJobId(data) } })));
        },
        ...(deps.incidentThresholds ? { thresholds: deps.incidentThresholds } : {}),
        now,
      });
      for (const c of changes) {
        log.warn(
          { feedId: feed.id, kind: c.incident.kind, detail: c.incident.detail },
          `source incident ${c.transition}`,
        );
      }
    } catch (err) {
      log.error({ feedId: feed.id, err: (err as Error).message }, 'source alarm check failed');
    }
  };
  if (deps.globalConcurrency !== undefined) await pollsQueue.setGlobalConcurrency(deps.globalConcurrency);

  // v2: a poll's new items join those of polls finishing at the same moment (ItemBatcher), in
  // jobs of at most MAX_ITEMS_PER_JOB. The job id is derived from the items, so a job queued twice
  // (a send retried after its reply was lost) is a no-op; a poll redone after a crash may queue
  // its items in a different batch, which is harmless too: classifying is idempotent per item
  // (alert ids, story marks and delivery ids are all derived from the item).
  const batcher = new ItemBatcher<FeedItem>({
    maxItems: MAX_ITEMS_PER_JOB,
    maxWaitMs: deps.batchWaitMs ?? DEFAULT_BATCH_WAIT_MS,
    send: async (items) => {
      const jobs = [];
      for (let i = 0; i < items.length; i += MAX_ITEMS_PER_JOB) {
        const batch = items.slice(i, i + MAX_ITEMS_PER_JOB);
        jobs.push({
          name: 'items',
          data: { v: 2, items: batch } satisfies ItemJob,
          opts: { jobId: itemsJobId(batch) },
        });
      }
      if (jobs.length === 1) await itemsQueue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts);
      else await itemsQueue.addBulk(jobs);
    },
  });
  // Batches only once every live classifier reads them (a rolling update from a release before
  // batching has old classifiers for a while): until then, one v1 job per item, as before.
  const itemBatches = createShapeGate(redis, deps.prefix, 'classifier', JOB_SHAPES.itemBatches, {
    onChange: (open) => deps.log.info({ itemBatches: open }, `items jobs: batching turned ${open ? 'on' : 'off'}`),
  });
  const enqueue = async (fresh: FeedItem[], ticket: BatchTicket<FeedItem> | undefined) => {
    const items = fresh.map(queuedItem);
    await itemBatches.ready;
    if (!itemBatches()) {
      ticket?.done();
      await itemsQueue.addBulk(
        items.map((item) => ({
          name: 'item',
          data: { v: 1, item } satisfies ItemJob,
          opts: { jobId: `item-${item.id}` },
        })),
      );
      return;
    }
    await (ticket ?? batcher.expect()).add(items);
  };

  const pollOne = async (feedId: string, log: Logger): Promise<PollJobOutcome> => {
    const feed = deps.feeds().find((f) => f.id === feedId);
    if (!feed?.enabled) {
      // A job left over from a feed that was removed or disabled since it was queued.
      return { status: 'skipped', reason: 'not-configured', detail: `feed "${feedId}" is not configured` };
    }
    const token = await lock.acquire(feed.id);
    if (!token) return { status: 'skipped', reason: 'locked', detail: 'another poller is polling this feed' };
    // Announced to the batcher once a changed document is in (not on a 304): from then on this poll
    // is moments away from its new items (a parse and one seen check), and a batch forming meanwhile
    // waits for it; a poll that finds nothing new lets the batch go when it ends.
    let ticket: BatchTicket<FeedItem> | undefined;
    try {
      const outcome = await pollFeed(feed, {
        fetch: async (url, http) => {
          const result = await fetchFeed(url, http, {
            policy: deps.policy,
            ...(deps.userAgent ? { userAgent: deps.userAgent } : {}),
          });
          if (result.status === 'ok') ticket ??= batcher.expect();
          return result;
        },
        parse: parseSourceDocument,
        state,
        seen,
        enqueue: (fresh) => enqueue(fresh, ticket),
        acquireHost: (url) => hosts.acquire(hostKey(url)),
        now: () => new Date(),
      })
        .finally(() => ticket?.done())
        .catch(async (err: unknown) => {
          await observeHealth(feed, { kind: 'failed', error: errorText(err) }, log);
          throw err;
        });
      if (outcome.status === 'ok') {
        await observeHealth(feed, { kind: 'ok', items: outcome.items, newItems: outcome.newItems }, log);
      } else if (outcome.status === 'not-modified') {
        await observeHealth(feed, { kind: 'not-modified' }, log);
      }
      if (outcome.status === 'skipped' && outcome.reason === 'host-busy') {
        const delay = 500 + Math.floor(Math.random() * 1500);
        const data: PollJob = { v: 1, feedId: feed.id };
        await pollsQueue.add('poll', data, { ...POLL_JOB_OPTIONS, delay, jobId: `defer-${feed.id}-${Date.now()}` });
        log.debug({ feedId, delay }, 'host busy: poll re-queued');
        return { status: 'deferred', reason: 'host-busy', detail: outcome.detail };
      }
      return outcome;
    } finally {
      await lock.release(feed.id, token);
    }
  };

  const worker: WorkerHandle = startWorker(
    {
      queue: QUEUES.polls,
      schema: PollJobSchema,
      concurrency: deps.concurrency ?? 16,
      handle: async ({ feedId }, { log }) => {
        const outcome = await pollOne(feedId, log);
        log.info({ feedId, ...outcome }, 'feed polled');
        return outcome;
      },
    },
    { connection: deps.connection, prefix: deps.prefix, log: deps.log },
  );

  // Syncs run one at a time; a sync asked for while one runs reads the list afresh after it.
  let syncing: Promise<unknown> = Promise.resolve();
  let syncedHash: string | undefined;
  const sync = (): Promise<SyncResult> => {
    const run = syncing.then(async () => {
      const feeds = deps.feeds();
      const hash = feedListHash(feeds);
      const result = await syncSchedules(pollsQueue, feeds);
      syncedHash = hash;
      deps.log.info({ feeds: feeds.length, ...result }, 'feed schedules synced');
      return result;
    });
    syncing = run.catch(() => {});
    return run;
  };
  await sync();

  const resyncTimer = setInterval(() => {
    let hash: string;
    try {
      hash = feedListHash(deps.feeds());
    } catch (err) {
      deps.log.error({ err }, 'reading the feed list failed');
      return;
    }
    if (hash === syncedHash) return;
    sync().catch((err: unknown) => deps.log.error({ err }, 'feed schedule sync failed'));
  }, deps.resyncIntervalMs ?? 30_000);
  resyncTimer.unref();

  return {
    pollsQueue,
    itemsQueue,
    opsQueue,
    sync,
    close: async () => {
      clearInterval(resyncTimer);
      itemBatches.close();
      await syncing;
      await worker.close();
      await pollsQueue.close();
      await itemsQueue.close();
      await opsQueue.close();
      await redis.quit();
    },
  };
}

/** "CODE: first line", at most 300 characters, for the `failing` incident's detail. */
function errorText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = (typeof e?.message === 'string' ? e.message : String(err)).split('\n')[0] ?? '';
  const text = `${typeof e?.code === 'string' ? `${e.code}: ` : ''}${message}`;
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
