import { stateKey } from '@regwatch/queue';
import type { Redis } from 'ioredis';

/**
 * Remembers which items were already queued, bounded in memory: members live in one Redis set
 * per time bucket (a week by default) and a bucket expires as a whole once it falls out of the
 * retention window. A set member costs ~60–70 bytes, where a key per item with its own TTL
 * costs well over 100.
 *
 * Each item is remembered twice: by its id (`i…`) and by its canonical URL hash (`u…`), so the
 * same article arriving through two feeds is queued once.
 */
export class SeenStore {
  private readonly bucketSeconds: number;
  private readonly bucketCount: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    options: { retentionSeconds?: number; bucketSeconds?: number } = {},
  ) {
    const retention = options.retentionSeconds ?? 90 * 24 * 3600;
    this.bucketSeconds = options.bucketSeconds ?? 7 * 24 * 3600;
    this.bucketCount = Math.max(1, Math.ceil(retention / this.bucketSeconds));
  }

  private bucketKeys(nowMs: number): string[] {
    const current = Math.floor(nowMs / 1000 / this.bucketSeconds);
    return Array.from({ length: this.bucketCount + 1 }, (_, i) => stateKey(this.prefix, 'seen', String(current - i)));
  }

  /** Returns, for each member, whether it is already remembered in any live bucket. */
  async has(members: string[], nowMs = Date.now()): Promise<boolean[]> {
    if (members.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of this.bucketKeys(nowMs)) pipeline.smismember(key, ...members);
    const results = (await pipeline.exec()) ?? [];
    const seen = members.map(() => false);
    for (const [err, flags] of results) {
      if (err) throw err;
      (flags as number[]).forEach((f, i) => {
        if (f === 1) seen[i] = true;
      });
    }
    return seen;
  }

  /** Remembers members in the current bucket, which expires after the retention window. */
  async add(members: string[], nowMs = Date.now()): Promise<void> {
    if (members.length === 0) return;
    const [current] = this.bucketKeys(nowMs);
    const ttl = this.bucketSeconds * (this.bucketCount + 1);
    await this.redis
      .multi()
      .sadd(current!, ...members)
      .expire(current!, ttl)
      .exec();
  }
}
