import type { FeedItem, FeedSource } from '@regwatch/contracts';
import { feedSourceUrl, RateLimitedError } from '@regwatch/contracts';
import type { FeedState } from '@regwatch/store';
import {
  type FeedEntry,
  type FeedHttpState,
  type FetchFeedResult,
  type ParsedEntries,
  sha256Hex,
} from '../feed/index.js';
import { nextSlotAt, scheduleOffsetMs } from './slots.js';

/** Everything `pollFeed` needs, passed in so it can be tested without Redis or a network. */
export interface PollDeps {
  fetch: (url: string, state: FeedHttpState) => Promise<FetchFeedResult>;
  /**
   * Parses by the source's type (`parseSourceDocument`); a feed-only parser may ignore `source`.
   * Only the entries not seen before have their `item()` built.
   */
  parse: (
    body: Buffer,
    opts: {
      feedId: string;
      contentType?: string;
      baseUrl: string;
      fetchedAt: Date;
      lang?: string;
      source: FeedSource;
      pageBaseline?: PageBaseline | undefined;
      /** The memo the previous parse of this feed returned (see entry-memo.ts). */
      memo?: string;
    },
  ) => Promise<ParsedEntries>;
  state: {
    get(feedId: string): Promise<FeedState>;
    /** Sets fields (`undefined` deletes one) and adds `add.itemsSeen` to the counter, in one go. */
    update(feedId: string, patch: Partial<FeedState>, add?: { itemsSeen?: number }): Promise<void>;
    /** A `page` source's last region text; required for `page` sources. */
    pageBaseline?(feedId: string): Promise<PageBaseline | undefined>;
    setPageBaseline?(feedId: string, baseline: PageBaseline): Promise<void>;
    /** A feed's entry memo (see entry-memo.ts); absent: feeds are parsed whole at every poll. */
    entryMemo?(feedId: string): Promise<string | undefined>;
    /** Stores the memo the poll's parse returned; `undefined` deletes it. */
    setEntryMemo?(feedId: string, memo: string | undefined): Promise<void>;
  };
  seen: { has(members: string[]): Promise<boolean[]>; add(members: string[]): Promise<void> };
  /** Queues new items; must be idempotent per item id (deterministic job ids). */
  enqueue: (items: FeedItem[]) => Promise<void>;
  /**
   * Takes one of the few request slots of the feed's host (see `HostLimiter`); resolves to the
   * release function, or `undefined` when the host stayed busy. Absent: no per-host limit.
   */
  acquireHost?: (url: string) => Promise<(() => Promise<void>) | undefined>;
  now: () => Date;
}

/** What a `page` source saw in its region last time (see page-watch.ts). */
export interface PageBaseline {
  of: string;
  text: string;
}

export type PollOutcome =
  | { status: 'skipped'; reason: 'backoff' | 'host-busy'; detail: string }
  | { status: 'not-modified' }
  | { status: 'ok'; items: number; newItems: number };

/** A failing feed waits twice as long after each failure, from one interval up to a day. */
export const MAX_BACKOFF_MS = 24 * 3600 * 1000;

/** Failures back off exponentially from one interval up to a day, so a dead feed costs little. */
export function failureBackoffMs(intervalSeconds: number, consecutiveFailures: number): number {
  // 2 ** 30 already dwarfs a day for any interval; capping the exponent keeps the number finite.
  const factor = 2 ** Math.min(30, Math.max(0, consecutiveFailures - 1));
  return Math.min(intervalSeconds * 1000 * factor, MAX_BACKOFF_MS);
}

/**
 * Members remembered for an item: its id, and a hash of its canonical URL so the same story
 * reaching us through two feeds is queued once. A link's meaningful fragment (`#comment-42`) is
 * part of that hash: the canonical URL drops fragments, and without it every entry of a page
 * that lists several (a comments feed, a notices page with an anchor each) would share one URL
 * and all but the first would be dropped as duplicates.
 */
export function seenMembers(item: Pick<FeedItem, 'id' | 'url'>, fragment?: string): string[] {
  const members = [item.id];
  if (item.url) {
    const key = fragment ? `${item.url}#${fragment}` : item.url;
    members.push(`u${sha256Hex(key).slice(0, 24)}`);
  }
  return members;
}

/**
 * Polls one feed once: conditional GET, parse, keep the items not seen before, queue them,
 * then remember them. Queue-then-remember means a crash in between re-queues (deduplicated by
 * job id downstream) rather than losing an item.
 *
 * Health is written once per poll: `lastAttemptAt`, and either `lastSuccessAt`/`lastStatus`
 * with the failure count reset, or `lastError`/`lastStatus` with the count raised and
 * `nextPollAt` pushed back by {@link failureBackoffMs} (or the server's Retry-After, if
 * longer). While backing off, scheduled polls are skipped without a request. Failures are
 * rethrown after they are recorded.
 */
export async function pollFeed(feed: FeedSource, deps: PollDeps): Promise<PollOutcome> {
  // Read together (one write to Redis): only feeds have a memo, other source types are few items.
  const isFeed = feed.type === undefined || feed.type === 'rss';
  const [state, storedMemo] = await Promise.all([
    deps.state.get(feed.id),
    isFeed && deps.state.entryMemo ? deps.state.entryMemo(feed.id) : undefined,
  ]);
  const now = deps.now();
  const everyMs = feed.intervalSeconds * 1000;
  const offsetMs = scheduleOffsetMs(feed.id, everyMs);
  if (state.consecutiveFailures > 0 && state.nextPollAt) {
    // Tolerance for scheduler latency and clock skew between replicas: a run that fires at the
    // slot `nextPollAt` names must not be skipped for being a few milliseconds early.
    const tolerance = Math.min(everyMs / 10, 30_000);
    if (Date.parse(state.nextPollAt) > now.getTime() + tolerance) {
      return { status: 'skipped', reason: 'backoff', detail: `backing off until ${state.nextPollAt}` };
    }
  }
  // Validators and a permanent move belong to the URL they were learnt from; a feed whose
  // configured URL changed starts afresh. (No sourceUrl: state from before it was recorded.)
  const sourceUrl = feedSourceUrl(feed);
  const isSameSource = state.sourceUrl === undefined || state.sourceUrl === sourceUrl;
  const http: FeedHttpState = isSameSource && state.etag !== undefined ? { etag: state.etag } : {};
  if (isSameSource && state.lastModified !== undefined) http.lastModified = state.lastModified;
  const url = (isSameSource ? state.permanentUrl : undefined) ?? sourceUrl;
  const source: Partial<FeedState> = {
    sourceUrl,
    lastAttemptAt: now.toISOString(),
    ...(isSameSource ? {} : { etag: undefined, lastModified: undefined, permanentUrl: undefined }),
  };

  let release: (() => Promise<void>) | undefined;
  if (deps.acquireHost) {
    release = await deps.acquireHost(url);
    if (!release) return { status: 'skipped', reason: 'host-busy', detail: `${hostOf(url)} is busy` };
  }
  try {
    let result: FetchFeedResult;
    try {
      result = await deps.fetch(url, http);
    } finally {
      await release?.();
    }
    if (result.status === 'not-modified') {
      await deps.state.update(feed.id, {
        ...source,
        ...healthy(result.httpStatus, now, everyMs, offsetMs),
        ...validators(result.state),
      });
      return { status: 'not-modified' };
    }
    const isPage = feed.type === 'page';
    if (isPage && (!deps.state.pageBaseline || !deps.state.setPageBaseline)) {
      throw new Error('a page source needs a state store that keeps page baselines');
    }
    const parseOptions = {
      feedId: feed.id,
      baseUrl: result.finalUrl,
      fetchedAt: now,
      ...(result.contentType ? { contentType: result.contentType } : {}),
      ...(feed.lang ? { lang: feed.lang } : {}),
      source: feed,
      ...(isPage ? { pageBaseline: await deps.state.pageBaseline!(feed.id) } : {}),
    };
    // The memo belongs to the URL it was learnt from, as the validators do.
    const memo = isSameSource ? storedMemo : undefined;
    let parsed = await deps.parse(result.body, { ...parseOptions, ...(memo ? { memo } : {}) });
    let news = await newEntries(parsed.entries, deps);
    if (news.entries.some((entry) => entry.remembered)) {
      // An element the memo knew is not among the seen items (the seen set forgot it): it needs its
      // item, so the document is parsed whole and judged again.
      parsed = await deps.parse(result.body, parseOptions);
      news = await newEntries(parsed.entries, deps);
    }
    // Normalized here and only here: most entries of a poll were seen before and are dropped.
    const fresh = news.entries.map((entry) => entry.item());
    const freshMembers = news.members;
    if (fresh.length > 0) {
      await deps.enqueue(fresh);
      await deps.seen.add(freshMembers);
    }
    // After the change is queued: a crash before this re-reports the change, never loses it.
    if (isPage && parsed.pageBaseline) await deps.state.setPageBaseline!(feed.id, parsed.pageBaseline);
    await Promise.all([
      deps.state.update(
        feed.id,
        {
          ...source,
          ...healthy(result.httpStatus, now, everyMs, offsetMs),
          ...validators(result.state),
          ...(result.permanentRedirect ? { permanentUrl: result.permanentRedirect } : {}),
        },
        { itemsSeen: fresh.length },
      ),
      // After the items are queued and remembered, like the validators: a memo never names an
      // element whose item was not handled. Unchanged (nothing new in the feed): not written.
      isFeed && deps.state.setEntryMemo && parsed.memo !== storedMemo
        ? deps.state.setEntryMemo(feed.id, parsed.memo)
        : undefined,
    ]);
    return { status: 'ok', items: parsed.entries.length, newItems: fresh.length };
  } catch (err) {
    const failures = state.consecutiveFailures + 1;
    const wait = Math.max(
      failureBackoffMs(feed.intervalSeconds, failures),
      err instanceof RateLimitedError ? err.retryAfterMs : 0,
    );
    const status = (err as { status?: unknown }).status;
    await deps.state.update(feed.id, {
      ...source,
      consecutiveFailures: failures,
      lastError: shortError(err),
      lastStatus: typeof status === 'number' ? status : undefined,
      nextPollAt: new Date(nextSlotAt(now.getTime() + wait, everyMs, offsetMs)).toISOString(),
    });
    throw err;
  }
}

/**
 * The entries not seen before (the first of each id in the document) and the members to remember
 * them by: one check against the seen items.
 */
async function newEntries(
  entries: readonly FeedEntry[],
  deps: Pick<PollDeps, 'seen'>,
): Promise<{ entries: FeedEntry[]; members: string[] }> {
  const unique = dedupeWithinFeed(entries);
  const members = memberLists(unique);
  const flags = await deps.seen.has(members.flat());
  let cursor = 0;
  const fresh: FeedEntry[] = [];
  const freshMembers: string[] = [];
  unique.forEach((entry, i) => {
    const own = members[i]!;
    const isKnown = flags.slice(cursor, cursor + own.length).some(Boolean);
    cursor += own.length;
    if (!isKnown) {
      fresh.push(entry);
      freshMembers.push(...own);
    }
  });
  return { entries: fresh, members: freshMembers };
}

function healthy(status: number, now: Date, everyMs: number, offsetMs: number): Partial<FeedState> {
  return {
    lastSuccessAt: now.toISOString(),
    lastStatus: status,
    lastError: undefined,
    consecutiveFailures: 0,
    // The scheduler's next run: slots are aligned to the feed's offset (see slots.ts).
    nextPollAt: new Date(nextSlotAt(now.getTime() + 1, everyMs, offsetMs)).toISOString(),
  };
}

/** The validators to keep: those of this response (a 304 may refresh them), else none. */
function validators(http: FeedHttpState): Partial<FeedState> {
  return { etag: http.etag, lastModified: http.lastModified };
}

/**
 * Each item's members. A URL that several items of this document share (a feed linking every
 * entry to its home page) does not identify any of them, so it is left out for those items:
 * otherwise the first would shadow the others, and every later entry linking there.
 */
function memberLists(entries: readonly FeedEntry[]): string[][] {
  const lists = entries.map((entry) => seenMembers(entry, entry.fragment));
  const owners = new Map<string, number>();
  for (const list of lists) {
    if (list[1] !== undefined) owners.set(list[1], (owners.get(list[1]) ?? 0) + 1);
  }
  return lists.map((list) => (list[1] !== undefined && (owners.get(list[1]) ?? 0) > 1 ? [list[0]!] : list));
}

/** A feed can repeat an item; keep the first of each id. */
function dedupeWithinFeed(entries: readonly FeedEntry[]): FeedEntry[] {
  const ids = new Set<string>();
  return entries.filter((entry) => {
    if (ids.has(entry.id)) return false;
    ids.add(entry.id);
    return true;
  });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** "CODE: message", at most 300 characters: enough to act on, short enough for a status page. */
function shortError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const firstLine = (e.message ?? String(err)).split('\n')[0] ?? '';
  const text = `${e.code ? `${e.code}: ` : ''}${firstLine}`;
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
