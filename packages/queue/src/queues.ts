import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullPrefix } from './connection.js';

/**
 * Completed and failed jobs are kept for a while for the ops view, then removed, so Redis
 * memory stays bounded whatever the traffic.
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'custom' },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
};

export function createQueue(
  name: string,
  deps: { connection: Redis; prefix: string; defaultJobOptions?: JobsOptions },
): Queue {
  return new Queue(name, {
    connection: deps.connection,
    prefix: bullPrefix(deps.prefix),
    defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, ...deps.defaultJobOptions },
  });
}

/** Job counts for a set of queues, for the api and the ops view. */
export async function countJobs(queues: Queue[]): Promise<Record<string, Record<string, number>>> {
  const entries = await Promise.all(
    queues.map(
      async (q) =>
        [
          q.name,
          await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'paused', 'prioritized'),
        ] as const,
    ),
  );
  return Object.fromEntries(entries);
}
