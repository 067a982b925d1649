import { stateKey } from '@regwatch/queue';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * A delivery that failed for good: a permanent error (410, 550, endpoint disabled…) or every
 * attempt of the retry schedule used up. Carries ids only, like the job it came from, so ops can
 * read it and the api can replay it; secrets and addresses stay in the subscription.
 */
export const DeadLetterSchema = z.object({
  /** The dead letter's id: the delivery id (a delivery has at most one dead letter at a time). */
  id: z.string(),
  deliveryId: z.string(),
  /** `alert`, `update`, `digest` or `notice`. */
  kind: z.string(),
  alertId: z.string(),
  storyId: z.string(),
  subscriptionId: z.string(),
  channelKey: z.string(),
  /** Unknown when the subscription or channel no longer exists. */
  channel: z.enum(['webhook', 'email']).optional(),
  /** Stable error code: `WEBHOOK_GONE`, `SMTP_REJECTED`, `ENDPOINT_DISABLED`, `WEBHOOK_SERVER_ERROR`… */
  reason: z.string(),
  /** The error message (names a host and a status, never a secret, URL path or body). */
  message: z.string(),
  failedAt: z.string(),
  /** Attempts made, counting the last one. */
  attempts: z.number().int().min(0),
  /** How often it was replayed before this failure. */
  replays: z.number().int().min(0).default(0),
  /** The delivery job's payload, re-queued as it is on replay. */
  job: z.record(z.string(), z.unknown()),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;
export type DeadLetterInput = z.input<typeof DeadLetterSchema>;

export interface DeadLetterStoreOptions {
  /** How long a dead letter is kept. Default 30 days. */
  retentionSeconds?: number;
  /** At most this many are kept; the oldest go first. Default 10,000. */
  maxEntries?: number;
}

/**
 * Dead letters in Redis: one JSON value per letter (expiring) and a time index for listing,
 * trimmed by age and count on every write so a broken endpoint cannot fill Redis.
 */
export class DeadLetterStore {
  readonly retentionSeconds: number;
  readonly maxEntries: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    options: DeadLetterStoreOptions = {},
  ) {
    this.retentionSeconds = options.retentionSeconds ?? 30 * 24 * 3600;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  private key(id: string): string {
    return stateKey(this.prefix, 'dead-letter', id);
  }

  private index(): string {
    return stateKey(this.prefix, 'dead-letters');
  }

  /** Stores (or replaces) a dead letter. */
  async add(input: DeadLetterInput): Promise<DeadLetter> {
    const letter = DeadLetterSchema.parse(input);
    const at = Date.parse(letter.failedAt);
    const score = Number.isNaN(at) ? Date.now() : at;
    const results = await this.redis
      .multi()
      .set(this.key(letter.id), JSON.stringify(letter), 'EX', this.retentionSeconds)
      .zadd(this.index(), score, letter.id)
      .zremrangebyscore(this.index(), '-inf', score - this.retentionSeconds * 1000)
      .zrange(this.index(), 0, -(this.maxEntries + 1))
      .exec();
    const overflow = (results?.[3]?.[1] as string[] | undefined) ?? [];
    if (overflow.length > 0) {
      await this.redis
        .multi()
        .del(...overflow.map((id) => this.key(id)))
        .zrem(this.index(), ...overflow)
        .exec();
    }
    return letter;
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const raw = await this.redis.get(this.key(id));
    return raw ? DeadLetterSchema.parse(JSON.parse(raw)) : undefined;
  }

  /** Newest first; `before` is an epoch-ms cursor (the `failedAt` of the last one seen). */
  async list(options: { limit?: number; before?: number; subscriptionId?: string } = {}): Promise<DeadLetter[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const out: DeadLetter[] = [];
    let max = options.before !== undefined ? `(${options.before}` : '+inf';
    // Filtering by subscription may need several pages; each page is bounded.
    for (let page = 0; page < 20 && out.length < limit; page++) {
      const ids = await this.redis.zrevrangebyscore(this.index(), max, '-inf', 'WITHSCORES', 'LIMIT', 0, limit);
      if (ids.length === 0) break;
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < ids.length; i += 2) pairs.push([ids[i]!, ids[i + 1]!]);
      const raws = await this.redis.mget(pairs.map(([id]) => this.key(id)));
      for (const raw of raws) {
        if (raw === null) continue;
        const letter = DeadLetterSchema.parse(JSON.parse(raw));
        if (options.subscriptionId === undefined || letter.subscriptionId === options.subscriptionId) out.push(letter);
        if (out.length >= limit) break;
      }
      if (pairs.length < limit) break;
      max = `(${pairs[pairs.length - 1]![1]}`;
    }
    return out;
  }

  /** True when it existed. */
  async remove(id: string): Promise<boolean> {
    const results = await this.redis.multi().del(this.key(id)).zrem(this.index(), id).exec();
    return results?.[0]?.[1] === 1;
  }

  /** Letters in the index (some may have just expired). */
  async count(): Promise<number> {
    return this.redis.zcard(this.index());
  }
}
