import { silentLogger } from '@regwatch/logger';
import type { Job } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { toProcessor } from './runner.js';

function jobOf(data: unknown): Job {
  return { id: 'j-1', data, attemptsMade: 0 } as unknown as Job;
}

describe('toProcessor', () => {
  const schema = z.object({ v: z.literal(1), n: z.number() });

  it("makes the job's child logger only when the handler logs", async () => {
    const log = silentLogger();
    const child = vi.spyOn(log, 'child');
    const quiet = toProcessor({ queue: 'q', schema, handle: async ({ n }) => n * 2 }, log);
    expect(await quiet(jobOf({ v: 1, n: 21 }))).toBe(42);
    expect(child).not.toHaveBeenCalled();

    const chatty = toProcessor(
      {
        queue: 'q',
        schema,
        handle: async ({ n }, meta) => {
          meta.log.info({ n }, 'one');
          meta.log.info({ n }, 'two');
          return meta.attempt;
        },
      },
      log,
    );
    expect(await chatty(jobOf({ v: 1, n: 1 }))).toBe(1);
    // Once per job, with the job's bindings, however often it logs.
    expect(child).toHaveBeenCalledTimes(1);
    expect(child).toHaveBeenCalledWith({ queue: 'q', jobId: 'j-1' });
  });
});
