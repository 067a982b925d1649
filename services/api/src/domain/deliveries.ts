import { firstAttemptOf, replayDeadLetter } from '@regwatch/notifier';
import type { DeadLetter, DeadLetterStore } from '@regwatch/store';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * A delivery that needs attention:
 * - `dead`: dead-lettered (a permanent error, or every attempt used); replay re-queues it;
 * - `failed`: a BullMQ job of the deliveries queue in its failed set (an error the dead-letter
 *   path did not catch); replay retries the job;
 * - `retrying`: failed at least once and waiting for its next attempt; replay runs it now.
 */
export const ProblemDeliverySchema = z.object({
  id: z.string().describe('what to pass to replay: the dead letter id or the BullMQ job id'),
  state: z.enum(['dead', 'failed', 'retrying']),
  deliveryId: z.string(),
  kind: z.string().optional(),
  alertId: z.string(),
  storyId: z.string(),
  subscriptionId: z.string(),
  channelKey: z.string(),
  channel: z.enum(['webhook', 'email']).optional(),
  reason: z.string().optional().describe('stable error code, when known'),
  message: z.string(),
  at: z.string().describe('when it failed (last attempt)'),
  attempts: z.number().int(),
  replays: z.number().int().optional(),
});
export type ProblemDelivery = z.infer<typeof ProblemDeliverySchema>;

export type ProblemState = ProblemDelivery['state'];

function fromLetter(letter: DeadLetter): ProblemDelivery {
  return {
    id: letter.id,
    state: 'dead',
    deliveryId: letter.deliveryId,
    kind: letter.kind,
    alertId: letter.alertId,
    storyId: letter.storyId,
    subscriptionId: letter.subscriptionId,
    channelKey: letter.channelKey,
    ...(letter.channel ? { channel: letter.channel } : {}),
    reason: letter.reason,
    message: letter.message,
    at: letter.failedAt,
    attempts: letter.attempts,
    replays: letter.replays,
  };
}

/**
 * Attempts a delivery job has made, counting one made before the job existed: a delivery whose
 * first attempt failed in a `deliver-batch` job leaves it as a `deliver` job with
 * `firstAttempt: 2`, delayed with `attemptsMade` 0 — it has failed once all the same.
 */
function attemptsOf(job: Job): number {
  return job.attemptsMade + firstAttemptOf(job) - 1;
}

/**
 * A `deliver-batch` job is not a delivery: each delivery of it that fails leaves it as a `deliver`
 * job of its own (listed here), and a batch that fails for good hands every undelivered one off
 * the same way, so listing the batch too would show them twice.
 */
function isBatch(job: Job): boolean {
  return job.name === 'deliver-batch';
}

function fromJob(job: Job, state: 'failed' | 'retrying'): ProblemDelivery {
  const data = (job.data ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const reason = /^([A-Z][A-Z0-9_]+):/.exec(job.failedReason ?? '')?.[1];
  const at = job.finishedOn ?? job.processedOn ?? job.timestamp;
  return {
    id: job.id ?? '',
    state,
    deliveryId: str(data['deliveryId']) || (job.id ?? ''),
    ...(typeof data['kind'] === 'string' ? { kind: data['kind'] } : {}),
    alertId: str(data['alertId']),
    storyId: str(data['storyId']),
    subscriptionId: str(data['subscriptionId']),
    channelKey: str(data['channelKey']),
    ...(reason ? { reason } : {}),
    message: job.failedReason ?? '',
    at: new Date(at).toISOString(),
    attempts: attemptsOf(job),
    ...(typeof data['replay'] === 'number' ? { replays: data['replay'] } : {}),
  };
}

export interface ProblemPage {
  deliveries: ProblemDelivery[];
  nextCursor?: string;
}

/**
 * One page of deliveries in one state, newest first. `dead` pages by failure time (the cursor is
 * the last one's epoch ms), `failed` and `retrying` by position in BullMQ's sets. `include` drops
 * what the caller may not see (another team's) after reading, so a page may come back short.
 */
export async function listProblems(
  deps: { deadLetters: DeadLetterStore; deliveries: Queue },
  state: ProblemState,
  options: { limit: number; cursor?: string; subscriptionId?: string; include?: (d: ProblemDelivery) => boolean },
): Promise<ProblemPage> {
  const include = (d: ProblemDelivery) =>
    (options.subscriptionId === undefined || d.subscriptionId === options.subscriptionId) &&
    (options.include?.(d) ?? true);
  if (state === 'dead') {
    const before = options.cursor === undefined ? undefined : Number(options.cursor);
    const letters = await deps.deadLetters.list({
      limit: options.limit,
      ...(before !== undefined && Number.isFinite(before) ? { before } : {}),
      ...(options.subscriptionId ? { subscriptionId: options.subscriptionId } : {}),
    });
    const last = letters[letters.length - 1];
    return {
      deliveries: letters.map(fromLetter).filter(include),
      ...(letters.length === options.limit && last ? { nextCursor: String(Date.parse(last.failedAt)) } : {}),
    };
  }
  const start = Math.max(0, Number(options.cursor ?? 0) || 0);
  const end = start + options.limit - 1;
  const jobs =
    state === 'failed' ? await deps.deliveries.getFailed(start, end) : await deps.deliveries.getDelayed(start, end);
  const rows = jobs
    .filter((job): job is Job => Boolean(job) && !isBatch(job) && (state === 'failed' || attemptsOf(job) > 0))
    .map((job) => fromJob(job, state));
  return {
    deliveries: rows.filter(include),
    ...(jobs.length === options.limit ? { nextCursor: String(end + 1) } : {}),
  };
}

export interface ReplayDeps {
  connection: Redis;
  prefix: string;
  deadLetters: DeadLetterStore;
  deliveries: Queue;
}

export interface Replayed {
  id: string;
  state: ProblemState;
  /** The BullMQ job that will run it. */
  jobId: string;
}

/** What a replay would act on, without acting: for authorization before the replay. */
export async function findProblem(deps: ReplayDeps, id: string): Promise<ProblemDelivery | undefined> {
  const letter = await deps.deadLetters.get(id);
  if (letter) return fromLetter(letter);
  const job = await deps.deliveries.getJob(id);
  if (!job || isBatch(job)) return undefined;
  const state = await job.getState();
  if (state === 'failed') return fromJob(job, 'failed');
  if (state === 'delayed' && attemptsOf(job) > 0) return fromJob(job, 'retrying');
  return undefined;
}

/**
 * Replays one delivery: a dead letter goes back on the queue through the notifier's
 * `replayDeadLetter` (same delivery id, so receivers can drop a duplicate); a failed job is
 * retried; a delivery waiting for its next attempt runs now. Undefined when there is nothing to replay.
 */
export async function replayOne(deps: ReplayDeps, id: string): Promise<Replayed | undefined> {
  const problem = await findProblem(deps, id);
  if (!problem) return undefined;
  if (problem.state === 'dead') {
    const jobId = await replayDeadLetter(
      { connection: deps.connection, prefix: deps.prefix, deliveries: deps.deliveries },
      id,
    );
    return jobId ? { id, state: 'dead', jobId } : undefined;
  }
  const job = await deps.deliveries.getJob(id);
  if (!job) return undefined;
  if (problem.state === 'failed') await job.retry('failed');
  else await job.promote();
  return { id, state: problem.state, jobId: id };
}
