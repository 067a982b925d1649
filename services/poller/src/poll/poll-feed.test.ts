import { type FeedItem, type FeedSource, RateLimitedError, RetryableError } from '@regwatch/contracts';
import type { FeedState } from '@regwatch/store';
import { describe, expect, it } from 'vitest';
import { type FeedHttpState, type FetchFeedResult, parseFeed, parseFeedEntries } from '../feed/index.js';
import { failureBackoffMs, MAX_BACKOFF_MS, type PollDeps, pollFeed, seenMembers } from './poll-feed.js';
import { nextSlotAt, scheduleOffsetMs } from './slots.js';

const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const FEED: FeedSource = { id: 'bis', url: 'https://feeds.example.gov/bis.rss', intervalSeconds: 300, enabled: true };

function rss(items: Array<{ guid?: string; link?: string; title: string }>): string {
  const body = items
    .map(
      (i) =>
        `<item><title>${i.title}</title>${i.link ? `<link>${i.link}</link>` : ''}${
          i.guid ? `<guid isPermaLink="false">${i.guid}</guid>` : ''
        }<pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate></item>`,
    )
    .join('');
  return `<rss version="2.0"><channel><title>T</title><link>https://site.example/</link>${body}</channel></rss>`;
}

const ok = (body: string, extra: Partial<Extract<FetchFeedResult, { status: 'ok' }>> = {}): FetchFeedResult => ({
  status: 'ok',
  httpStatus: 200,
  body: Buffer.from(body),
  contentType: 'application/rss+xml',
  finalUrl: FEED.url,
  state: { etag: '"v1"', lastModified: 'Mon, 02 Mar 2026 09:00:00 GMT' },
  ...extra,
});

/** In-memory stand-ins for FeedStateStore, SeenStore, the items queue, the clock and the network. */
function harness(initial: Partial<FeedState> = {}) {
  const record: Record<string, unknown> = { ...initial };
  const seen = new Set<string>();
  const queued: FeedItem[] = [];
  const fetches: Array<{ url: string; http: FeedHttpState }> = [];
  let clock = T0;
  let respond: (url: string, http: FeedHttpState) => Promise<FetchFeedResult> = async () => {
    throw new Error('no response scripted');
  };
  let stateWrites = 0;
  const deps: PollDeps = {
    fetch: (url, http) => {
      fetches.push({ url, http });
      return respond(url, http);
    },
    parse: parseFeedEntries,
    state: {
      get: async () => ({ consecutiveFailures: 0, itemsSeen: 0, ...record }) as FeedState,
      update: async (_id, patch, add) => {
        stateWrites++;
        for (const [k, v] of Object.entries(patch)) {
          if (v === undefined) delete record[k];
          else record[k] = v;
        }
        if (add?.itemsSeen) record['itemsSeen'] = ((record['itemsSeen'] as number | undefined) ?? 0) + add.itemsSeen;
      },
    },
    seen: {
      has: async (members) => members.map((m) => seen.has(m)),
      add: async (members) => {
        for (const m of members) seen.add(m);
      },
    },
    enqueue: async (items) => {
      queued.push(...items);
    },
    now: () => new Date(clock),
  };
  return {
    deps,
    state: () => ({ consecutiveFailures: 0, itemsSeen: 0, ...record }) as FeedState,
    seen,
    queued,
    fetches,
    stateWrites: () => stateWrites,
    respond(fn: (url: string, http: FeedHttpState) => FetchFeedResult | Promise<FetchFeedResult>) {
      respond = async (url, http) => fn(url, http);
    },
    advance(ms: number) {
      clock += ms;
    },
    now: () => clock,
  };
}

const offset = scheduleOffsetMs(FEED.id, 300_000);
const failure = (code: string, status?: number) =>
  Object.assign(new RetryableError(code, `feed ${FEED.url} answered HTTP ${status}`), status ? { status } : {});

describe('pollFeed health', () => {
  it('records a first successful poll: attempt, success, status, validators, items seen, next slot', async () => {
    const h = harness();
    h.respond(() =>
      ok(
        rss([
          { guid: 'a', title: 'A' },
          { guid: 'b', title: 'B' },
        ]),
      ),
    );
    expect(await pollFeed(FEED, h.deps)).toEqual({ status: 'ok', items: 2, newItems: 2 });
    const s = h.state();
    expect(s).toMatchObject({
      lastAttemptAt: new Date(T0).toISOString(),
      lastSuccessAt: new Date(T0).toISOString(),
      lastStatus: 200,
      consecutiveFailures: 0,
      itemsSeen: 2,
      etag: '"v1"',
      lastModified: 'Mon, 02 Mar 2026 09:00:00 GMT',
      sourceUrl: FEED.url,
      nextPollAt: new Date(nextSlotAt(T0 + 1, 300_000, offset)).toISOString(),
    });
    expect(s.lastError).toBeUndefined();
    const next = Date.parse(s.nextPollAt!);
    expect(next).toBeGreaterThan(T0);
    expect(next).toBeLessThanOrEqual(T0 + 300_000);
    expect((next - offset) % 300_000).toBe(0);
    expect(h.queued.map((i) => i.title)).toEqual(['A', 'B']);
    expect(h.stateWrites()).toBe(1); // one write per poll
  });

  it('sends the validators, counts a 304 as a success and keeps items seen', async () => {
    const h = harness({ etag: '"v1"', lastModified: 'x', itemsSeen: 7, sourceUrl: FEED.url });
    h.respond(() => ({ status: 'not-modified', httpStatus: 304, state: { etag: '"v2"', lastModified: 'x' } }));
    expect(await pollFeed(FEED, h.deps)).toEqual({ status: 'not-modified' });
    expect(h.fetches[0]!.http).toEqual({ etag: '"v1"', lastModified: 'x' });
    expect(h.state()).toMatchObject({ lastStatus: 304, itemsSeen: 7, etag: '"v2"', consecutiveFailures: 0 });
    expect(h.state().lastSuccessAt).toBe(new Date(T0).toISOString());
  });

  it('queues only unseen items on the next poll', async () => {
    const h = harness();
    h.respond(() => ok(rss([{ guid: 'a', title: 'A' }])));
    await pollFeed(FEED, h.deps);
    h.respond(() =>
      ok(
        rss([
          { guid: 'a', title: 'A' },
          { guid: 'c', title: 'C' },
        ]),
        { state: { etag: '"v2"' } },
      ),
    );
    expect(await pollFeed(FEED, h.deps)).toEqual({ status: 'ok', items: 2, newItems: 1 });
    expect(h.queued.map((i) => i.title)).toEqual(['A', 'C']);
    expect(h.state()).toMatchObject({ itemsSeen: 2, etag: '"v2"' });
    expect(h.state().lastModified).toBeUndefined(); // the server stopped sending it
  });

  it('records a failure: error, status, count, backoff; keeps the last success; rethrows', async () => {
    const h = harness({ lastSuccessAt: '2026-03-01T00:00:00.000Z', etag: '"v1"' });
    h.respond(() => {
      throw failure('FEED_HTTP_5XX', 503);
    });
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow(/HTTP 503/);
    const s = h.state();
    expect(s).toMatchObject({
      consecutiveFailures: 1,
      lastStatus: 503,
      lastAttemptAt: new Date(T0).toISOString(),
      lastSuccessAt: '2026-03-01T00:00:00.000Z',
      etag: '"v1"',
    });
    expect(s.lastError).toBe(`FEED_HTTP_5XX: feed ${FEED.url} answered HTTP 503`);
    expect(Date.parse(s.nextPollAt!)).toBeGreaterThanOrEqual(T0 + 300_000);
    expect(Date.parse(s.nextPollAt!)).toBeLessThan(T0 + 600_000);
  });

  it('drops the HTTP status when the failure had none (DNS, connect, parse)', async () => {
    const h = harness({ lastStatus: 200 });
    h.respond(() => ok('<html><body>maintenance</body></html>'));
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow(/not a feed/);
    expect(h.state().lastStatus).toBeUndefined();
    expect(h.state().lastError).toMatch(/^FEED_PARSE: not a feed/);
  });

  it('backs off exponentially: skips polls without a request until the next allowed slot', async () => {
    const h = harness();
    h.respond(() => {
      throw failure('FEED_HTTP_5XX', 500);
    });
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow();
    // The next scheduled slot is the first allowed one after one failure.
    const firstRetry = Date.parse(h.state().nextPollAt!);
    h.advance(firstRetry - h.now());
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow();
    expect(h.fetches).toHaveLength(2);
    expect(h.state().consecutiveFailures).toBe(2);
    // Two failures: two intervals. The slot in between is skipped without a request.
    const secondRetry = Date.parse(h.state().nextPollAt!);
    expect(secondRetry - h.now()).toBeGreaterThanOrEqual(600_000);
    h.advance(300_000);
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ status: 'skipped', reason: 'backoff' });
    expect(h.fetches).toHaveLength(2);
    h.advance(secondRetry - h.now());
    h.respond(() => ok(rss([{ guid: 'a', title: 'A' }])));
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ status: 'ok' });
    // Recovery resets the count and clears the error.
    expect(h.state()).toMatchObject({ consecutiveFailures: 0, lastStatus: 200 });
    expect(h.state().lastError).toBeUndefined();
  });

  it('does not skip a run that fires a little before the slot it was allowed (clock skew)', async () => {
    const allowed = nextSlotAt(T0, 300_000, offset);
    const h = harness({ consecutiveFailures: 1, nextPollAt: new Date(allowed).toISOString() });
    h.advance(allowed - T0 - 5_000);
    h.respond(() => ok(rss([{ guid: 'a', title: 'A' }])));
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ status: 'ok' });
  });

  it('caps the backoff at a day', async () => {
    expect(failureBackoffMs(300, 1)).toBe(300_000);
    expect(failureBackoffMs(300, 2)).toBe(600_000);
    expect(failureBackoffMs(300, 5)).toBe(4_800_000);
    expect(failureBackoffMs(300, 12)).toBe(MAX_BACKOFF_MS);
    expect(failureBackoffMs(300, 5000)).toBe(MAX_BACKOFF_MS);
    const h = harness({ consecutiveFailures: 40 });
    h.respond(() => {
      throw failure('FEED_HTTP_5XX', 500);
    });
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow();
    const wait = Date.parse(h.state().nextPollAt!) - T0;
    expect(wait).toBeGreaterThanOrEqual(MAX_BACKOFF_MS);
    expect(wait).toBeLessThan(MAX_BACKOFF_MS + 300_000);
  });

  it('honours a Retry-After longer than the backoff', async () => {
    const h = harness();
    h.respond(() => {
      throw Object.assign(new RateLimitedError('FEED_RATE_LIMITED', 'slow down', 3 * 3600_000), { status: 429 });
    });
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow('slow down');
    expect(h.state()).toMatchObject({ lastStatus: 429, consecutiveFailures: 1 });
    expect(Date.parse(h.state().nextPollAt!) - T0).toBeGreaterThanOrEqual(3 * 3600_000);
  });

  it('keeps a permanent redirect and polls the new URL from then on', async () => {
    const h = harness();
    const moved = 'https://new.example.gov/bis.rss';
    h.respond(() => ok(rss([{ guid: 'a', title: 'A' }]), { finalUrl: moved, permanentRedirect: moved }));
    await pollFeed(FEED, h.deps);
    expect(h.state().permanentUrl).toBe(moved);
    h.respond(() => ({ status: 'not-modified', httpStatus: 304, state: { etag: '"v1"' } }));
    await pollFeed(FEED, h.deps);
    expect(h.fetches.map((f) => f.url)).toEqual([FEED.url, moved]);
    expect(h.state().permanentUrl).toBe(moved);
  });

  it('starts afresh when the configured URL changes: no old validators, no old redirect', async () => {
    const h = harness({ sourceUrl: FEED.url, etag: '"old"', permanentUrl: 'https://moved.example/x' });
    const changed = { ...FEED, url: 'https://other.example.gov/feed.xml' };
    h.respond(() => ok(rss([{ guid: 'a', title: 'A' }]), { state: {} }));
    await pollFeed(changed, h.deps);
    expect(h.fetches[0]).toEqual({ url: changed.url, http: {} });
    const s = h.state();
    expect(s.sourceUrl).toBe(changed.url);
    expect(s.etag).toBeUndefined();
    expect(s.permanentUrl).toBeUndefined();
  });

  it('does not enqueue nor remember when the host stays busy, and releases the slot after the fetch', async () => {
    const h = harness();
    const events: string[] = [];
    h.deps.acquireHost = async () => undefined;
    h.respond(() => ok(rss([{ guid: 'a', title: 'A' }])));
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ status: 'skipped', reason: 'host-busy' });
    expect(h.fetches).toHaveLength(0);
    expect(h.stateWrites()).toBe(0);

    h.deps.acquireHost = async (url) => {
      events.push(`acquire ${new URL(url).host}`);
      return async () => {
        events.push('release');
      };
    };
    h.respond(() => {
      events.push('fetch');
      throw failure('FEED_HTTP_5XX', 500);
    });
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow();
    expect(events).toEqual(['acquire feeds.example.gov', 'fetch', 'release']);
  });

  it('re-queues items whose queueing failed (queue first, remember after)', async () => {
    const h = harness();
    const enqueue = h.deps.enqueue;
    h.deps.enqueue = async () => {
      throw new Error('redis went away');
    };
    h.respond(() => ok(rss([{ guid: 'a', title: 'A' }])));
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow('redis went away');
    expect(h.seen.size).toBe(0);
    expect(h.state().consecutiveFailures).toBe(1);
    h.deps.enqueue = enqueue;
    h.advance(Date.parse(h.state().nextPollAt!) - h.now());
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ newItems: 1 });
  });
});

describe('pollFeed identity and dedupe', () => {
  it('keeps items that share a page and differ only by #anchor', async () => {
    const h = harness();
    const notice = (n: number) => ({
      guid: `n${n}`,
      link: `https://site.example/notices.html#n${n}`,
      title: `Notice ${n}`,
    });
    h.respond(() => ok(rss([notice(1)])));
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ items: 1, newItems: 1 });
    // The feed rolls on: the next entry on the same page is new, though its canonical URL is not.
    h.respond(() => ok(rss([notice(2)])));
    h.advance(300_000);
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ items: 1, newItems: 1 });
    expect(h.queued.map((i) => i.title)).toEqual(['Notice 1', 'Notice 2']);
    expect(new Set(h.queued.map((i) => i.url))).toEqual(new Set(['https://site.example/notices.html']));
  });

  it('keeps guid-less entries told apart only by #anchor', async () => {
    const h = harness();
    h.respond(() =>
      ok(
        rss([
          { link: 'https://site.example/changes#2026-03-01', title: 'Change 1' },
          { link: 'https://site.example/changes#2026-03-02', title: 'Change 2' },
        ]),
      ),
    );
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ items: 2, newItems: 2 });
  });

  it('queues a story once when two feeds carry it (tracking parameters and fragments aside)', async () => {
    const h = harness();
    h.respond(() => ok(rss([{ guid: 'x1', link: 'https://news.example/story?utm_source=a', title: 'Story' }])));
    await pollFeed(FEED, h.deps);
    const other: FeedSource = { ...FEED, id: 'wire' };
    h.respond(() =>
      ok(rss([{ guid: 'other-guid', link: 'https://NEWS.example/story#xtor=RSS-3', title: 'Story (wire)' }])),
    );
    expect(await pollFeed(other, h.deps)).toMatchObject({ items: 1, newItems: 0 });
    expect(h.queued).toHaveLength(1);
  });

  it('does not let a link shared by several items (the home page) shadow them', async () => {
    const h = harness();
    h.respond(() =>
      ok(
        rss([
          { guid: 'p1', link: 'https://agency.example/', title: 'Press release 1' },
          { guid: 'p2', link: 'https://agency.example/', title: 'Press release 2' },
        ]),
      ),
    );
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ newItems: 2 });
    h.respond(() =>
      ok(
        rss([
          { guid: 'p3', link: 'https://agency.example/', title: 'Press release 3' },
          { guid: 'p1', link: 'https://agency.example/', title: 'Press release 1' },
        ]),
      ),
    );
    h.advance(300_000);
    expect(await pollFeed(FEED, h.deps)).toMatchObject({ newItems: 1 });
    expect(h.queued.map((i) => i.title)).toEqual(['Press release 1', 'Press release 2', 'Press release 3']);
  });

  it('hashes the URL with its fragment only when there is one', () => {
    const item = { id: 'iabc', url: 'https://a.example/p' } as FeedItem;
    const [, plain] = seenMembers(item);
    const [, anchored] = seenMembers(item, 'n1');
    expect(plain).toMatch(/^u[0-9a-f]{24}$/);
    expect(anchored).not.toBe(plain);
    expect(seenMembers({ id: 'iabc' } as FeedItem)).toEqual(['iabc']);
  });
});

describe('pollFeed normalizes only what it queues', () => {
  /** The real parser, with each entry's item() wrapped: `built` records the ids normalized, `fail` makes it throw. */
  function wrapParse(h: ReturnType<typeof harness>, opts: { built?: string[]; fail?: boolean }) {
    h.deps.parse = async (body, parseOpts) => {
      const parsed = await parseFeedEntries(body, parseOpts);
      return {
        ...parsed,
        entries: parsed.entries.map((entry) => ({
          ...entry,
          item: () => {
            if (opts.fail) throw new Error(`normalization of ${entry.id} failed`);
            opts.built?.push(entry.id);
            return entry.item();
          },
        })),
      };
    };
  }
  const story = (n: number) => ({ guid: `s${n}`, link: `https://site.example/s/${n}?utm_source=rss`, title: `S${n}` });

  it('builds the FeedItem of the new entries only, as parseFeed builds it', async () => {
    const h = harness();
    const built: string[] = [];
    wrapParse(h, { built });
    h.respond(() => ok(rss([story(1), story(2), story(3)])));
    expect(await pollFeed(FEED, h.deps)).toEqual({ status: 'ok', items: 3, newItems: 3 });
    expect(built).toEqual(h.queued.map((i) => i.id));

    built.length = 0;
    const body = rss([story(5), story(3), story(2), story(4), story(1)]);
    h.respond(() => ok(body));
    h.advance(300_000);
    expect(await pollFeed(FEED, h.deps)).toEqual({ status: 'ok', items: 5, newItems: 2 });
    const fresh = h.queued.slice(3);
    expect(fresh.map((i) => i.title)).toEqual(['S5', 'S4']);
    expect(built).toEqual(fresh.map((i) => i.id));
    // Byte for byte what full normalization of the same document gives.
    const full = await parseFeed(Buffer.from(body), {
      feedId: FEED.id,
      baseUrl: FEED.url,
      fetchedAt: new Date(h.now()),
      contentType: 'application/rss+xml',
    });
    expect(JSON.stringify(fresh)).toBe(JSON.stringify(full.items.filter((i) => i.title === 'S5' || i.title === 'S4')));
  });

  it('does not fail a poll over an entry it has seen; a new entry that fails to normalize does', async () => {
    const h = harness();
    h.respond(() => ok(rss([story(1), story(2)])));
    await pollFeed(FEED, h.deps);
    wrapParse(h, { fail: true });
    h.advance(300_000);
    expect(await pollFeed(FEED, h.deps)).toEqual({ status: 'ok', items: 2, newItems: 0 });
    expect(h.state().consecutiveFailures).toBe(0);

    h.respond(() => ok(rss([story(3), story(1), story(2)])));
    h.advance(300_000);
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow(/^normalization of i[0-9a-f]{24} failed$/);
    expect(h.state().consecutiveFailures).toBe(1);
    expect(h.queued).toHaveLength(2);
  });
});

describe('pollFeed with the entry memo', () => {
  /** The harness with a memo store, and every parse's memo argument recorded. */
  function memoHarness(initial: Partial<FeedState> = {}) {
    const h = harness(initial);
    const memos = new Map<string, string>();
    const parses: Array<string | undefined> = [];
    const memoWrites: Array<string | undefined> = [];
    h.deps.state.entryMemo = async (id) => memos.get(id);
    h.deps.state.setEntryMemo = async (id, memo) => {
      memoWrites.push(memo);
      if (memo === undefined) memos.delete(id);
      else memos.set(id, memo);
    };
    h.deps.parse = (body, opts) => {
      parses.push(opts.memo);
      return parseFeedEntries(body, opts);
    };
    return { ...h, memos, parses, memoWrites };
  }
  const story = (n: number) => ({ guid: `g${n}`, link: `https://site.example/${n}`, title: `S${n}` });

  it('parses a known feed with its memo, queues only the new items, and rewrites the memo only when it changed', async () => {
    const h = memoHarness();
    h.respond(() => ok(rss([story(2), story(1)])));
    await pollFeed(FEED, h.deps);
    expect(h.parses).toEqual([undefined]);
    expect(h.memoWrites).toHaveLength(1);

    h.respond(() => ok(rss([story(3), story(2), story(1)])));
    h.advance(300_000);
    expect(await pollFeed(FEED, h.deps)).toEqual({ status: 'ok', items: 3, newItems: 1 });
    expect(h.parses[1]).toBe(h.memoWrites[0]);
    expect(h.queued.map((i) => i.title)).toEqual(['S2', 'S1', 'S3']);
    expect(h.memoWrites).toHaveLength(2);

    // Nothing new: every element comes from the memo, nothing is queued, the memo stays as it is.
    h.advance(300_000);
    expect(await pollFeed(FEED, h.deps)).toEqual({ status: 'ok', items: 3, newItems: 0 });
    expect(h.parses).toHaveLength(3);
    expect(h.memoWrites).toHaveLength(2);
    expect(h.queued).toHaveLength(3);
  });

  it('queues an item the seen set has forgotten even though the memo knows its element, as a poll without memo would', async () => {
    const h = memoHarness();
    h.respond(() => ok(rss([story(2), story(1)])));
    await pollFeed(FEED, h.deps);
    // The seen set lost item 1 (its bucket expired): a full parse would find it new again.
    const [, first] = h.queued;
    for (const m of seenMembers(first!)) h.seen.delete(m);
    h.advance(300_000);
    expect(await pollFeed(FEED, h.deps)).toEqual({ status: 'ok', items: 2, newItems: 1 });
    expect(h.queued.map((i) => i.title)).toEqual(['S2', 'S1', 'S1']);
    // Judged with the memo first, then parsed whole for the item it needed.
    expect(h.parses).toEqual([undefined, h.memoWrites[0], undefined]);
  });

  it('does not use a memo learnt from another URL', async () => {
    const h = memoHarness({ sourceUrl: 'https://old.example/feed.rss' });
    h.memos.set(
      FEED.id,
      (
        await parseFeedEntries(Buffer.from(rss([story(1)])), {
          feedId: FEED.id,
          baseUrl: FEED.url,
          fetchedAt: new Date(T0),
        })
      ).memo!,
    );
    h.respond(() => ok(rss([story(1)])));
    await pollFeed(FEED, h.deps);
    expect(h.parses).toEqual([undefined]);
  });

  it('does not write the memo of a poll that failed', async () => {
    const h = memoHarness();
    h.respond(() => ok(rss([story(1)])));
    h.deps.enqueue = async () => {
      throw new Error('redis down');
    };
    await expect(pollFeed(FEED, h.deps)).rejects.toThrow('redis down');
    expect(h.memoWrites).toEqual([]);
  });
});
