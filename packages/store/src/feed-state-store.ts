import { stateKey, tickPipelineOf } from '@regwatch/queue';
import type { Redis } from 'ioredis';

/** What the poller remembers about one feed: HTTP validators and health. */
export interface FeedState {
  etag?: string;
  lastModified?: string;
  permanentUrl?: string;
  /** The configured URL the validators and `permanentUrl` belong to; a new one starts afresh. */
  sourceUrl?: string;
  lastAttemptAt?: string;
  lastSuccessAt?: string;
  lastStatus?: number;
  lastError?: string;
  consecutiveFailures: number;
  itemsSeen: number;
  nextPollAt?: string;
}

/** The text a `page` source last saw in its region (capped by the poller at 256 KiB). */
export interface PageBaseline {
  /** What the text is of: the page URL and selector. */
  of: string;
  text: string;
}

/** A removed `page` source's baseline goes by itself; a polled one's is refreshed at every poll. */
export const PAGE_BASELINE_TTL_SECONDS = 180 * 24 * 3600;

/** A feed not polled (successfully, with a new document) for this long loses its entry memo. */
export const ENTRY_MEMO_TTL_SECONDS = 7 * 24 * 3600;

const NUMERIC = new Set(['lastStatus', 'consecutiveFailures', 'itemsSeen']);

/** Per-feed state in one Redis hash; the api reads it for feed health. */
export class FeedStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(feedId: string): string {
    return stateKey(this.prefix, 'feed', feedId);
  }

  async get(feedId: string): Promise<FeedState> {
    const raw = await tickPipelineOf(this.redis).run<Record<string, string>>((p) => p.hgetall(this.key(feedId)));
    const state: Record<string, unknown> = { consecutiveFailures: 0, itemsSeen: 0 };
    for (const [k, v] of Object.entries(raw)) state[k] = NUMERIC.has(k) ? Number(v) : v;
    return state as unknown as FeedState;
  }

  /**
   * Sets the given fields; `undefined` deletes a field. `itemsSeen` in `add` is added to the
   * counter in the same transaction (one round trip per poll).
   */
  async update(feedId: string, patch: Partial<FeedState>, add: { itemsSeen?: number } = {}): Promise<void> {
    const set: Record<string, string> = {};
    const del: string[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) del.push(k);
      else set[k] = String(v);
    }
    // In the connection's tick pipeline rather than a MULTI: one poller writes a feed's state at a
    // time (the feed lock), and the commands go out together, in order, in one write.
    const tick = tickPipelineOf(this.redis);
    const key = this.key(feedId);
    await Promise.all([
      Object.keys(set).length > 0 ? tick.run((p) => p.hset(key, set)) : undefined,
      del.length > 0 ? tick.run((p) => p.hdel(key, ...del)) : undefined,
      add.itemsSeen ? tick.run((p) => p.hincrby(key, 'itemsSeen', add.itemsSeen!)) : undefined,
    ]);
  }

  async incrementSeen(feedId: string, by: number): Promise<void> {
    if (by > 0) await this.redis.hincrby(this.key(feedId), 'itemsSeen', by);
  }

  async remove(feedId: string): Promise<void> {
    await this.redis.del(this.key(feedId), this.pageKey(feedId), this.memoKey(feedId));
  }

  /**
   * A feed's entry memo (the poller's: what its last document's item elements normalized to, so
   * unchanged ones are not parsed again). Kept apart from the state hash, as the page baseline is,
   * so health reads never load it. Read in the connection's tick pipeline, with the state.
   */
  async entryMemo(feedId: string): Promise<string | undefined> {
    const memo = await tickPipelineOf(this.redis).run<string | null>((p) => p.get(this.memoKey(feedId)));
    return memo ?? undefined;
  }

  /** Stores (or with `undefined` deletes) a feed's entry memo; it goes a week after the last poll that wrote it. */
  async setEntryMemo(feedId: string, memo: string | undefined): Promise<void> {
    const key = this.memoKey(feedId);
    await tickPipelineOf(this.redis).run((p) =>
      memo === undefined ? p.del(key) : p.set(key, memo, 'EX', ENTRY_MEMO_TTL_SECONDS),
    );
  }

  private memoKey(feedId: string): string {
    return stateKey(this.prefix, 'memo', feedId);
  }

  /**
   * A `page` source's last region text, kept apart from the state hash so health reads (and the
   * API) never load it. `of` says what it is the text of (URL and selector): a changed source
   * starts from a new baseline instead of reporting the whole region as changed.
   */
  async pageBaseline(feedId: string): Promise<PageBaseline | undefined> {
    // Each read refreshes the TTL, so only a feed that stopped being polled loses its baseline.
    const result = await this.redis
      .multi()
      .hmget(this.pageKey(feedId), 'of', 'text')
      .expire(this.pageKey(feedId), PAGE_BASELINE_TTL_SECONDS)
      .exec();
    const [of, text] = (result?.[0]?.[1] as Array<string | null> | undefined) ?? [];
    return of == null || text == null ? undefined : { of, text };
  }

  async setPageBaseline(feedId: string, baseline: PageBaseline): Promise<void> {
    await this.redis
      .multi()
      .hset(this.pageKey(feedId), { of: baseline.of, text: baseline.text })
      .expire(this.pageKey(feedId), PAGE_BASELINE_TTL_SECONDS)
      .exec();
  }

  private pageKey(feedId: string): string {
    return stateKey(this.prefix, 'page', feedId);
  }
}
