import type { Subscription } from '@regwatch/contracts';
import type { JobsOptions, Queue } from 'bullmq';
import { type DigestJob, JOB_NAMES } from '../notify/jobs.js';

export const DIGEST_SCHEDULER_PREFIX = 'digest-';

/** A digest subscription without a schedule gets one message a day at 08:00 UTC. */
export const DEFAULT_DIGEST = { dailyAt: '08:00', timeZone: 'UTC' } as const;

/** How a digest subscription's ticks repeat, in BullMQ's terms, and how long one window is. */
export interface DigestRepeat {
  every?: number;
  pattern?: string;
  tz?: string;
  /** Length of one window, ms (a daily digest's is nominally a day). */
  periodMs: number;
}

/** A tick that failed (Redis away, a render bug) is retried a few times within its window. */
export const DIGEST_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'custom' },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000 },
};

/** The repeat options for a subscription's digest: `every` for `everyMinutes`, a cron pattern with a time zone for `dailyAt`. */
export function digestRepeatOf(subscription: Subscription): DigestRepeat {
  const digest = subscription.digest ?? DEFAULT_DIGEST;
  if ('everyMinutes' in digest) return { every: digest.everyMinutes * 60_000, periodMs: digest.everyMinutes * 60_000 };
  const [hh, mm] = digest.dailyAt.split(':');
  // Seconds, minutes, hours: cron-parser (BullMQ's) accepts the six-field form.
  return { pattern: `0 ${Number(mm)} ${Number(hh)} * * *`, tz: digest.timeZone ?? 'UTC', periodMs: 24 * 3600_000 };
}

export interface DigestSyncResult {
  upserted: number;
  unchanged: number;
  removed: number;
  /** Subscriptions whose schedule BullMQ refused (an unknown time zone), with the reason. */
  failed: Array<{ subscriptionId: string; error: string }>;
}

/**
 * Makes the job schedulers on the deliveries queue match the digest subscriptions: one per
 * live digest subscription, id `digest-<subscriptionId>`; the schedulers of subscriptions removed,
 * paused or switched to immediate are deleted. Schedulers live in Redis and are shared by every
 * replica, so a digest runs once per slot however many notifiers run.
 */
export async function syncDigestSchedules(
  queue: Queue,
  subscriptions: readonly Subscription[],
): Promise<DigestSyncResult> {
  const wanted = new Map<string, Subscription>(
    subscriptions.filter((s) => s.mode === 'digest' && !s.paused).map((s) => [`${DIGEST_SCHEDULER_PREFIX}${s.id}`, s]),
  );
  const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  const result: DigestSyncResult = { upserted: 0, unchanged: 0, removed: 0, failed: [] };
  for (const [schedulerId, subscription] of wanted) {
    const repeat = digestRepeatOf(subscription);
    const current = existing.get(schedulerId);
    const same =
      current &&
      (repeat.every !== undefined
        ? Number(current.every) === repeat.every
        : current.pattern === repeat.pattern && (current.tz ?? 'UTC') === repeat.tz);
    if (same) {
      result.unchanged++;
      continue;
    }
    const data: DigestJob = { v: 1, subscriptionId: subscription.id };
    const opts = repeat.every !== undefined ? { every: repeat.every } : { pattern: repeat.pattern!, tz: repeat.tz! };
    try {
      if (current) await queue.removeJobScheduler(schedulerId);
      await queue.upsertJobScheduler(schedulerId, opts, { name: JOB_NAMES.digest, data, opts: DIGEST_JOB_OPTIONS });
      result.upserted++;
    } catch (err) {
      result.failed.push({ subscriptionId: subscription.id, error: (err as Error).message });
    }
  }
  for (const id of existing.keys()) {
    if (id.startsWith(DIGEST_SCHEDULER_PREFIX) && !wanted.has(id)) {
      await queue.removeJobScheduler(id);
      result.removed++;
    }
  }
  return result;
}

/** The slot a scheduler job was made for (its id is `repeat:<schedulerId>:<millis>`), if it is one. */
export function scheduledSlotOf(job: { id?: string | undefined; opts?: { prevMillis?: number } }): number | undefined {
  const fromId = /^repeat:.+:(\d+)$/.exec(job.id ?? '')?.[1];
  if (fromId) return Number(fromId);
  return typeof job.opts?.prevMillis === 'number' ? job.opts.prevMillis : undefined;
}
