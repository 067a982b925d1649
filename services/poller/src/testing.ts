import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FeedSource } from '@regwatch/contracts';
import { silentLogger } from '@regwatch/logger';
import { createAddressPolicy } from '@regwatch/outbound';
import { bullPrefix, createRedis } from '@regwatch/queue';
import type { Redis } from 'ioredis';
import { nextSlotAt, scheduleOffsetMs } from './poll/slots.js';
import { type PollerDeps, type PollerHandle, startPoller } from './worker.js';

/**
 * For this package's integration tests: a real Redis, fresh key prefixes, pollers on their own
 * connection, and cleanups. Register `afterEach(bed.afterEach)` and `afterAll(bed.afterAll)` in the
 * test file. Not exported from the package.
 */
export function createPollerTestbed() {
  const redis: Redis = createRedis(process.env.REDIS_URL, 'worker');
  const cleanups: Array<() => Promise<unknown>> = [];
  const prefixes: string[] = [];

  /** A key prefix of its own, deleted after the file's tests. */
  const freshPrefix = (): string => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    prefixes.push(prefix);
    return prefix;
  };

  return {
    redis,
    freshPrefix,
    /** Listens with `server` on a free 127.0.0.1 port, closed after the test; returns its base URL. */
    async listen(server: Server): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      );
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    /**
     * Starts a poller on `prefix` with a connection of its own, a silent logger and a policy that lets
     * loopback through (the test servers) unless `extra` says otherwise; closed after the test.
     */
    async startPoller(
      prefix: string,
      feeds: () => readonly FeedSource[],
      extra: Partial<PollerDeps> = {},
    ): Promise<PollerHandle> {
      const connection: Redis = redis.duplicate();
      const handle = await startPoller({
        connection,
        prefix,
        log: silentLogger(),
        policy: createAddressPolicy(['127.0.0.0/8']),
        feeds,
        ...extra,
      });
      cleanups.push(async () => {
        await handle.close();
        await connection.quit();
      });
      return handle;
    },
    async afterEach(): Promise<void> {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
    async afterAll(): Promise<void> {
      for (const prefix of prefixes) {
        const keys = await redis.keys(`${bullPrefix(prefix)}*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      await redis.quit();
    },
  };
}

/** Polls `check` every 25 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * `count` feed ids `<base><n>` whose scheduled slot is more than a minute away, so within a test
 * only the scheduler's first poll and the ones the test asks for run.
 */
export function quietIds(base: string, count: number, every = 3_600_000): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) {
    const id = `${base}${i}`;
    if (nextSlotAt(Date.now(), every, scheduleOffsetMs(id, every)) - Date.now() > 60_000) ids.push(id);
  }
  return ids;
}
