import { stateKey } from '@regwatch/queue';
import type { Redis } from 'ioredis';

/** The stories of one digest window, as collected. */
export interface DigestWindow {
  /** Newest first, at most the `max` asked for. */
  storyIds: string[];
  /** Stories in the window, listed or not. */
  total: number;
  /** Where the previous window ended (epoch ms), when there was one. */
  lastEnd?: number;
}

/**
 * Each digest subscription's pending stories: a sorted set of story ids scored by when they were
 * routed, plus where the last window ended. Bounded: it expires when no digest runs for a long
 * time, and keeps at most `maxStories` (the newest).
 */
export class DigestBucket {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly maxStories = 5_000,
    private readonly ttlSeconds = 35 * 24 * 3600,
  ) {}

  private key(subscriptionId: string): string {
    return stateKey(this.prefix, 'digest', subscriptionId);
  }

  private lastKey(subscriptionId: string): string {
    return stateKey(this.prefix, 'digest-last', subscriptionId);
  }

  /** Adds a story routed at `atMs`; a story already waiting keeps its first time. */
  async add(subscriptionId: string, storyId: string, atMs: number): Promise<void> {
    const key = this.key(subscriptionId);
    await this.redis
      .multi()
      .zadd(key, 'NX', atMs, storyId)
      .zremrangebyrank(key, 0, -(this.maxStories + 1))
      .expire(key, this.ttlSeconds)
      .exec();
  }

  /** The stories routed up to `endMs` (inclusive): the newest `max` of them, and how many there are. */
  async window(subscriptionId: string, endMs: number, max: number): Promise<DigestWindow> {
    const result = await this.redis
      .multi()
      .zrevrangebyscore(this.key(subscriptionId), endMs, '-inf', 'LIMIT', 0, max)
      .zcount(this.key(subscriptionId), '-inf', endMs)
      .get(this.lastKey(subscriptionId))
      .exec();
    const storyIds = (result?.[0]?.[1] ?? []) as string[];
    const total = Number(result?.[1]?.[1] ?? 0);
    const last = result?.[2]?.[1] as string | null | undefined;
    return { storyIds, total, ...(last ? { lastEnd: Number(last) } : {}) };
  }

  /** Closes the window ending at `endMs`: its stories leave the bucket. */
  async commit(subscriptionId: string, endMs: number): Promise<void> {
    await this.redis
      .multi()
      .zremrangebyscore(this.key(subscriptionId), '-inf', endMs)
      .set(this.lastKey(subscriptionId), String(endMs), 'EX', this.ttlSeconds)
      .exec();
  }

  /** Stories waiting for the next digest. */
  async size(subscriptionId: string): Promise<number> {
    return this.redis.zcard(this.key(subscriptionId));
  }
}
