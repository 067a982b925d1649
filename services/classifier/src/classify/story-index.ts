import { runScript, stateKey } from '@regwatch/queue';
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
 * replica classifies it. Assignments are batched: the ones asked for while a batch is in flight
 * run together as the next batch, with one read of what others added, every assignment in
 * memory, then one write of ours. Two round trips per batch, not per item: one at a time per item
 * made 7 of 8 concurrent classifier jobs wait on the others' round trips.
 *
 * The write is one script call per batch that adds one entry per item (`h`/`s`/`t`), the stream's
 * format since the first release: one command per batch instead of one XADD per item (the
 * classifier's most frequent command), while the cap stays counted in items and every release
 * reads every entry.
 */
export class StoryIndex {
  private readonly clusterer: StoryClusterer;
  private readonly key: string;
  private readonly maxItems: number;
  private lastId = '0-0';
  private readonly own = new Set<string>();
  /** Assignments waiting for the next batch. */
  private pending: PendingAssignment[] = [];
  /** True while a batch runs: batches run one at a time, so a sync never reads the same entries twice. */
  private isRunning = false;

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
        this.clusterer.import(assignmentsOf(fields));
      }
      if (entries.length < 5_000) return;
    }
  }

  /**
   * The story id for an item whose stateless id (its SimHash) is `hashId`: the id of a recent
   * near-duplicate if there is one, else `hashId` itself.
   */
  assign(hashId: string, at = Date.now()): Promise<string> {
    const hash = parseStoryId(hashId);
    if (!hash) return Promise.resolve(hashId);
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ hashId, hash, at, resolve, reject });
      if (!this.isRunning) void this.drain();
    });
  }

  /** Runs batches until nothing is pending. */
  private async drain(): Promise<void> {
    this.isRunning = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        // Whatever fails, every assignment of the batch settles (a settled promise ignores the rest).
        await this.runBatch(batch).catch((err: unknown) => {
          for (const p of batch) p.reject(err);
        });
      }
    } finally {
      this.isRunning = false;
    }
  }

  private async runBatch(batch: PendingAssignment[]): Promise<void> {
    try {
      await this.sync();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    // In arrival order, so a copy later in the batch joins the story of one earlier in it.
    const storyIds = batch.map((p) => this.clusterer.assign(p.hash, p.at).storyId);
    const args: string[] = [String(this.maxItems)];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      args.push(p.hashId, storyIds[i]!, String(p.at));
    }
    let ids: unknown;
    try {
      ids = await runScript(this.redis, APPEND_SCRIPT, [this.key], args);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    if (!Array.isArray(ids) || ids.length !== batch.length) {
      const err = new Error(`story index: expected ${batch.length} stream ids, got ${JSON.stringify(ids)}`);
      for (const p of batch) p.reject(err);
      return;
    }
    // Our own entries come back on the next sync: skip them instead of remembering them twice.
    for (const id of ids) if (typeof id === 'string') this.own.add(id);
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(storyIds[i]!);
    if (this.own.size > 10_000) this.own.clear();
  }
}

/**
 * KEYS[1] the stream; ARGV[1] its cap in entries (approximate, as MAXLEN ~), then one
 * hash/story/time triple per item. Adds one entry per triple, in order; returns their ids.
 */
const APPEND_SCRIPT = `
local ids = {}
for i = 2, #ARGV, 3 do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'h', ARGV[i], 's', ARGV[i + 1], 't', ARGV[i + 2])
end
return ids
`;

interface PendingAssignment {
  hashId: string;
  hash: NonNullable<ReturnType<typeof parseStoryId>>;
  at: number;
  resolve: (storyId: string) => void;
  reject: (err: unknown) => void;
}

/**
 * The assignments of one stream entry: its `h`/`s`/`t` triples in order (one per entry as written;
 * reading every triple costs nothing and keeps a hand-written batch entry whole). An incomplete
 * triple is skipped.
 */
export function assignmentsOf(list: readonly string[]): Array<{ hash: string; storyId: string; at: number }> {
  const out: Array<{ hash: string; storyId: string; at: number }> = [];
  let h = '';
  let st = '';
  let t = '';
  for (let i = 0; i + 1 < list.length; i += 2) {
    const field = list[i]!;
    const value = list[i + 1]!;
    if (field === 'h') h = value;
    else if (field === 's') st = value;
    else if (field === 't') t = value;
    else continue;
    if (h && st && t) {
      out.push({ hash: h, storyId: st, at: Number(t) });
      h = st = t = '';
    }
  }
  return out;
}
