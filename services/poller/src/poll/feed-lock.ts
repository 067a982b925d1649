import { randomUUID } from 'node:crypto';
import { runScript, stateKey, tickPipelineOf } from '@regwatch/queue';
import type { Redis } from 'ioredis';

/** Deletes the lock only while it still holds our token: an expired lock taken over by another poller stays theirs. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * A short per-feed lock (`SET NX PX`), so several poller replicas never poll one feed at the same
 * time: a scheduler run and a manual or first-poll job that overlap, or a job BullMQ hands to a
 * second worker after the first one stalled. The TTL bounds how long a crashed poller blocks a
 * feed; it is longer than the fetch deadline (15 s) plus parsing.
 */
export class FeedLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = 60_000,
  ) {}

  private key(feedId: string): string {
    return stateKey(this.prefix, 'lock', 'feed', feedId);
  }

  /** Takes the lock; resolves to the token to release it with, or `undefined` when another poller holds it. */
  async acquire(feedId: string): Promise<string | undefined> {
    const token = randomUUID();
    const ok = await tickPipelineOf(this.redis).run((p) => p.set(this.key(feedId), token, 'PX', this.ttlMs, 'NX'));
    return ok === 'OK' ? token : undefined;
  }

  /** Releases the lock if `token` still holds it; true when it did. */
  async release(feedId: string, token: string): Promise<boolean> {
    return (await runScript(this.redis, RELEASE, [this.key(feedId)], [token])) === 1;
  }
}
