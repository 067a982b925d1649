import { formatIssues, isPermanent, RateLimitedError } from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import { type Job, type Processor, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { bullPrefix } from './connection.js';

export interface JobDefinition<S extends z.ZodType> {
  queue: string;
  schema: S;
  /** The domain function; it gets the parsed payload and never sees BullMQ. */
  handle: (payload: z.infer<S>, meta: { jobId: string; attempt: number; log: Logger }) => Promise<unknown>;
  concurrency?: number;
}

/**
 * Custom backoff: honours a RateLimitedError's Retry-After, otherwise exponential from 1 s,
 * capped at 5 min. Queues that need a longer schedule (deliveries) pass their own.
 */
export function defaultBackoff(attemptsMade: number, _type?: string, err?: Error): number {
  if (err instanceof RateLimitedError) return err.retryAfterMs;
  return Math.min(1_000 * 2 ** Math.max(0, attemptsMade - 1), 300_000);
}

/**
 * Wraps a job definition into a BullMQ processor: parse the payload with its schema (a bad
 * payload fails permanently, naming the field), call the handler, map PermanentError to
 * UnrecoverableError so BullMQ does not retry it.
 */
export function toProcessor<S extends z.ZodType>(def: JobDefinition<S>, log: Logger): Processor {
  return async (job: Job) => {
    const parsed = def.schema.safeParse(job.data);
    if (!parsed.success) {
      const why = formatIssues(parsed.error, 'data').join('; ');
      log.error({ queue: def.queue, jobId: job.id, why }, 'invalid job payload');
      throw new UnrecoverableError(`invalid ${def.queue} payload: ${why}`);
    }
    // The job's child logger is made when the handler first logs: most jobs log nothing, and a
    // pino child per job was a few percent of a busy worker's CPU.
    let child: Logger | undefined;
    const meta = {
      jobId: job.id ?? '',
      attempt: job.attemptsMade + 1,
      get log(): Logger {
        child ??= log.child({ queue: def.queue, jobId: job.id });
        return child;
      },
    };
    try {
      return await def.handle(parsed.data, meta);
    } catch (err) {
      if (isPermanent(err)) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    }
  };
}

export interface WorkerHandle {
  worker: Worker;
  close(): Promise<void>;
}

/** Starts one BullMQ worker for a job definition. */
export function startWorker<S extends z.ZodType>(
  def: JobDefinition<S>,
  deps: { connection: Redis; prefix: string; log: Logger; options?: Partial<WorkerOptions> },
): WorkerHandle {
  const worker = new Worker(def.queue, toProcessor(def, deps.log), {
    connection: deps.connection,
    prefix: bullPrefix(deps.prefix),
    concurrency: def.concurrency ?? 1,
    settings: { backoffStrategy: defaultBackoff },
    ...deps.options,
  });
  worker.on('failed', (job, err) => {
    deps.log.warn({ queue: def.queue, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed');
  });
  worker.on('error', (err) => deps.log.error({ queue: def.queue, err: err.message }, 'worker error'));
  return { worker, close: () => worker.close() };
}
