import { stateKey } from '@regwatch/queue';
import { parseStoryId, StoryClusterer } from '@regwatch/rules';
import type { Redis } from 'ioredis';

export interface StoryIndexOptions {
  prefix: string;
  /** Largest SimHash distance (bits) at which two items are one story. */
  maxDistance?: number;
  /** How long a story stays joinable. Default 72 h. */
  windowMs?: number;
  /** Items remembered, in memory and in the Redis stream. Default 20,000. */
  maxItems?: number;
}

/**
 * Story clustering shared by every classifier replica. Each replica keeps the recent items in
 * an in-memory {@link StoryClusterer}; a capped Redis stream carries each replica's assignments
 * to the others, so the same story arriving through two feeds gets one story id whichever
 * replica classifies it. Two round trips per item: read what others added, then add ours.
 */
export class StoryIndex {
  private readonly clusterer: StoryClusterer;
  private readonly key: string;
  private readonly maxItems: number;
  private lastId = '0-0';
  private readonly own = new Set<string>();
  /** Assignments run one at a time per replica, so a sync never reads the same entries twice. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    options: StoryIndexOptions,
  ) {
    this.maxItems = options.maxItems ?? 20_000;
    this.clusterer = new StoryClusterer({
      maxDistance: options.maxDistance ?? 8,
      windowMs: options.windowMs ?? 72 * 3600_000,
      maxItems: this.maxItems,
    });
    this.key = stateKey(options.prefix, 'stories');
  }

  /** Catches up with what other replicas added since the last call. */
  private async sync(): Promise<void> {
    for (;;) {
      const entries = await this.redis.xrange(this.key, `(${this.lastId}`, '+', 'COUNT', 5_000);
      for (const [id, fields] of entries) {
        this.lastId = id;
        if (this.own.delete(id)) continue;
        const f = fieldsOf(fields);
        if (f.h && f.s && f.t) this.clusterer.import([{ hash: f.h, storyId: f.s, at: Number(f.t) }]);
      }
      if (entries.length < 5_000) return;
    }
  }

  /**
   * The story id for an item whose stateless id (its SimHash) is `hashId`: the id of a recent
   * near-duplicate if there is one, else `hashId` itself.
   */
  assign(hashId: string, at = Date.now()): Promise<string> {
    const run = this.tail.then(() => this.assignNow(hashId, at));
    this.tail = run.catch(() => {});
    return run;
  }

  private async assignNow(hashId: string, at: number): Promise<string> {
    const hash = parseStoryId(hashId);
    if (!hash) return hashId;
    await this.sync();
    const { storyId } = this.clusterer.assign(hash, at);
    const id = await this.redis.xadd(
      this.key,
      'MAXLEN',
      '~',
      String(this.maxItems),
      '*',
      'h',
      hashId,
      's',
      storyId,
      't',
      String(at),
    );
    // Our own entry comes back on the next sync: skip it instead of remembering it twice.
    if (id) this.own.add(id);
    if (this.own.size > 10_000) this.own.clear();
    return storyId;
  }
}

function fieldsOf(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}
