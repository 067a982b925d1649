import { createHash } from 'node:crypto';
import type { FeedItem, FeedSource } from '@regwatch/contracts';
import { RateLimitedError } from '@regwatch/contracts';
import type { FeedState } from '@regwatch/store';
import type { FeedHttpState, FetchFeedResult, ParsedFeed } from '../feed/index.js';

/** Everything `pollFeed` needs, passed in so it can be tested without Redis or a network. */
export interface PollDeps {
  fetch: (url: string, state: FeedHttpState) => Promise<FetchFeedResult>;
  parse: (
    body: Buffer,
    opts: { feedId: string; contentType?: string; baseUrl: string; fetchedAt: Date; lang?: string },
  ) => Promise<ParsedFeed>;
  state: {
    get(feedId: string): Promise<FeedState>;
    update(feedId: string, patch: Partial<FeedState>): Promise<void>;
    incrementSeen(feedId: string, by: number): Promise<void>;
  };
  seen: { has(members: string[]): Promise<boolean[]>; add(members: string[]): Promise<void> };
  /** Queues new items; must be idempotent per item id (deterministic job ids). */
  enqueue: (items: FeedItem[]) => Promise<void>;
  now: () => Date;
}

export type PollOutcome =
  | { status: 'skipped'; reason: string }
  | { status: 'not-modified' }
  | { status: 'ok'; items: number; newItems: number };

/** Failures back off exponentially from one interval up to a day, so a dead feed costs little. */
export function failureBackoffMs(intervalSeconds: number, consecutiveFailures: number): number {
  return Math.min(intervalSeconds * 1000 * 2 ** Math.max(0, consecutiveFailures - 1), 24 * 3600 * 1000);
}

/** Members remembered for an item: its id, and its canonical URL so two feeds queue it once. */
export function seenMembers(item: FeedItem): string[] {
  const members = [item.id];
  if (item.url) members.push(`u${createHash('sha256').update(item.url).digest('hex').slice(0, 24)}`);
  return members;
}

/**
 * Polls one feed once: conditional GET, parse, keep the items not seen before, queue them,
 * then remember them. Queue-then-remember means a crash in between re-queues (deduplicated by
 * job id downstream) rather than losing an item.
 */
export async function pollFeed(feed: FeedSource, deps: PollDeps): Promise<PollOutcome> {
  const state = await deps.state.get(feed.id);
  const now = deps.now();
  if (state.nextPollAt && state.consecutiveFailures > 0 && Date.parse(state.nextPollAt) > now.getTime()) {
    return { status: 'skipped', reason: `backing off until ${state.nextPollAt}` };
  }
  const http: FeedHttpState = {
    ...(state.etag ? { etag: state.etag } : {}),
    ...(state.lastModified ? { lastModified: state.lastModified } : {}),
  };
  const url = state.permanentUrl ?? feed.url;
  await deps.state.update(feed.id, { lastAttemptAt: now.toISOString() });
  try {
    const result = await deps.fetch(url, http);
    if (result.status === 'not-modified') {
      await deps.state.update(feed.id, healthy(result.httpStatus, now, feed));
      return { status: 'not-modified' };
    }
    const parsed = await deps.parse(result.body, {
      feedId: feed.id,
      baseUrl: result.finalUrl,
      fetchedAt: now,
      ...(result.contentType ? { contentType: result.contentType } : {}),
      ...(feed.lang ? { lang: feed.lang } : {}),
    });
    const unique = dedupeWithinFeed(parsed.items);
    const members = unique.map(seenMembers);
    const flags = await deps.seen.has(members.flat());
    let cursor = 0;
    const fresh: FeedItem[] = [];
    unique.forEach((item, i) => {
      const count = members[i]!.length;
      const known = flags.slice(cursor, cursor + count).some(Boolean);
      cursor += count;
      if (!known) fresh.push(item);
    });
    if (fresh.length > 0) {
      await deps.enqueue(fresh);
      await deps.seen.add(fresh.flatMap(seenMembers));
      await deps.state.incrementSeen(feed.id, fresh.length);
    }
    await deps.state.update(feed.id, {
      ...healthy(result.httpStatus, now, feed),
      etag: result.state.etag,
      lastModified: result.state.lastModified,
      ...(result.permanentRedirect ? { permanentUrl: result.permanentRedirect } : {}),
    });
    return { status: 'ok', items: parsed.items.length, newItems: fresh.length };
  } catch (err) {
    const failures = state.consecutiveFailures + 1;
    const wait = Math.max(
      failureBackoffMs(feed.intervalSeconds, failures),
      err instanceof RateLimitedError ? err.retryAfterMs : 0,
    );
    await deps.state.update(feed.id, {
      consecutiveFailures: failures,
      lastError: shortError(err),
      lastStatus: (err as { status?: number }).status,
      nextPollAt: new Date(now.getTime() + wait).toISOString(),
    });
    throw err;
  }
}

function healthy(status: number, now: Date, feed: FeedSource): Partial<FeedState> {
  return {
    lastSuccessAt: now.toISOString(),
    lastStatus: status,
    lastError: undefined,
    consecutiveFailures: 0,
    nextPollAt: new Date(now.getTime() + feed.intervalSeconds * 1000).toISOString(),
  };
}

/** A feed can repeat an item; keep the first of each id. */
function dedupeWithinFeed(items: FeedItem[]): FeedItem[] {
  const ids = new Set<string>();
  return items.filter((item) => {
    if (ids.has(item.id)) return false;
    ids.add(item.id);
    return true;
  });
}

function shortError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const text = `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`;
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
