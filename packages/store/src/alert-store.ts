import { type Alert, AlertSchema } from '@regwatch/contracts';
import { stateKey } from '@regwatch/queue';
import type { Redis } from 'ioredis';

export interface AlertStoreOptions {
  prefix: string;
  /** How long an alert stays in history; also bounds the story index. Default 30 days. */
  retentionSeconds?: number;
}

/**
 * Alert history: one JSON value per alert, a time index for listing, and a per-story set so
 * every source of a story can be gathered into one notification. Everything expires.
 */
export class AlertStore {
  readonly retentionSeconds: number;
  constructor(
    private readonly redis: Redis,
    private readonly options: AlertStoreOptions,
  ) {
    this.retentionSeconds = options.retentionSeconds ?? 30 * 24 * 3600;
  }

  private key(...parts: string[]): string {
    return stateKey(this.options.prefix, ...parts);
  }

  /** Saves an alert and links it to its story; returns false when it was already stored. */
  async save(alert: Alert): Promise<boolean> {
    const ttl = this.retentionSeconds;
    const created = Date.parse(alert.createdAt);
    const results = await this.redis
      .multi()
      .set(this.key('alert', alert.id), JSON.stringify(alert), 'EX', ttl, 'NX')
      .zadd(this.key('alerts'), created, alert.id)
      .sadd(this.key('story', alert.storyId), alert.id)
      .expire(this.key('story', alert.storyId), ttl)
      .zremrangebyscore(this.key('alerts'), '-inf', created - ttl * 1000)
      .exec();
    return results?.[0]?.[1] === 'OK';
  }

  async get(id: string): Promise<Alert | undefined> {
    const raw = await this.redis.get(this.key('alert', id));
    return raw ? AlertSchema.parse(JSON.parse(raw)) : undefined;
  }

  /** Every stored alert of a story, oldest first. */
  async story(storyId: string): Promise<Alert[]> {
    const ids = await this.redis.smembers(this.key('story', storyId));
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.key('alert', id)));
    return raws
      .filter((r): r is string => r !== null)
      .map((r) => AlertSchema.parse(JSON.parse(r)))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** How many alerts a story has (one per source), without loading them. */
  async storySize(storyId: string): Promise<number> {
    return this.redis.scard(this.key('story', storyId));
  }

  /** Newest first; `before` is an epoch-ms cursor. */
  async list(options: { limit?: number; before?: number } = {}): Promise<Alert[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const max = options.before !== undefined ? `(${options.before}` : '+inf';
    const ids = await this.redis.zrevrangebyscore(this.key('alerts'), max, '-inf', 'LIMIT', 0, limit);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.key('alert', id)));
    return raws.filter((r): r is string => r !== null).map((r) => AlertSchema.parse(JSON.parse(r)));
  }
}
