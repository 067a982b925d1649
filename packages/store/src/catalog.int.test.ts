import { randomUUID } from 'node:crypto';
import { type FeedSource, FeedSourceSchema, type Subscription, SubscriptionSchema } from '@regwatch/contracts';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { afterAll, describe, expect, it } from 'vitest';
import { applySubscriptionState, CatalogStore, createLiveCatalog, type LiveCatalog } from './catalog.js';

const redis = createRedis(process.env.REDIS_URL, 'worker');
const prefixes: string[] = [];
function freshPrefix(): string {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return prefix;
}

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${bullPrefix(prefix)}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

const feed = (id: string, extra: Partial<FeedSource> = {}): FeedSource =>
  FeedSourceSchema.parse({ id, url: `https://example.com/${id}.xml`, ...extra });
const sub = (id: string, to: string[] = ['a@example.com'], extra: Partial<Subscription> = {}): Subscription =>
  SubscriptionSchema.parse({ id, team: 'chips', channels: [{ type: 'email', to }], ...extra });

/** Resolves when the catalog reports a change (pub/sub), failing after `ms`. */
function nextChange(catalog: LiveCatalog, ms = 3_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no catalog change within the deadline')), ms);
    const off = catalog.onChange(() => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

describe('live catalog (real Redis)', () => {
  it('merges file and API entries, file wins, and sees changes without a restart', async () => {
    const prefix = freshPrefix();
    const store = new CatalogStore(redis, prefix);
    const fileFeeds = [feed('fr-bis')];
    const fileSubs = [sub('chips-file')];
    await store.createFeed(feed('fr-bis', { url: 'https://evil.example/override.xml' }));
    const catalog = createLiveCatalog({
      redis,
      prefix,
      fileFeeds,
      fileSubscriptions: fileSubs,
      pollIntervalMs: 60_000,
    });
    try {
      expect(catalog.feeds()).toEqual(fileFeeds);
      await catalog.ready;
      // The API entry with the file's id is ignored: the file wins.
      expect(catalog.feeds().map((f) => f.url)).toEqual(['https://example.com/fr-bis.xml']);
      const feedsBefore = catalog.feeds();
      const subsBefore = catalog.subscriptions();
      expect(catalog.feeds()).toBe(feedsBefore);

      const changed = nextChange(catalog);
      expect(await store.createFeed(feed('api-feed'))).toBe(true);
      await changed;
      const feedsAfter = catalog.feeds();
      expect(feedsAfter).not.toBe(feedsBefore);
      expect(feedsAfter.map((f) => f.id)).toEqual(['fr-bis', 'api-feed']);
      // The subscriptions did not change: same identity, so the notifier keeps its index.
      expect(catalog.subscriptions()).toBe(subsBefore);

      const subChanged = nextChange(catalog);
      expect(await store.createSubscription(sub('api-sub'))).toBe(true);
      await subChanged;
      expect(catalog.subscriptions()).not.toBe(subsBefore);
      expect(catalog.subscriptions().map((s) => s.id)).toEqual(['chips-file', 'api-sub']);
      expect(catalog.feeds()).toBe(feedsAfter);

      // Taken ids are refused; a removal is seen.
      expect(await store.createFeed(feed('api-feed'))).toBe(false);
      const removed = nextChange(catalog);
      expect(await store.removeFeed('api-feed')).toBe(true);
      await removed;
      expect(catalog.feeds().map((f) => f.id)).toEqual(['fr-bis']);
    } finally {
      await catalog.close();
    }
  });

  it('picks changes up by polling the version when no message arrives', async () => {
    const prefix = freshPrefix();
    const catalog = createLiveCatalog({ redis, prefix, fileFeeds: [], fileSubscriptions: [], pollIntervalMs: 100 });
    try {
      await catalog.ready;
      const changed = nextChange(catalog);
      // Written behind the catalog's back (no PUBLISH): only the version poll can notice.
      await redis
        .multi()
        .hset(`${bullPrefix(prefix)}:catalog:feeds`, 'quiet', JSON.stringify(feed('quiet')))
        .incr(`${bullPrefix(prefix)}:catalog:version`)
        .exec();
      await changed;
      expect(catalog.feeds().map((f) => f.id)).toEqual(['quiet']);
    } finally {
      await catalog.close();
    }
  });

  it('follows a config file getter (SIGHUP reload) and applies pause and unsubscribe to file entries', async () => {
    const prefix = freshPrefix();
    const store = new CatalogStore(redis, prefix);
    let fileSubs: readonly Subscription[] = [sub('s1', ['a@example.com', 'B@example.com'])];
    const catalog = createLiveCatalog({
      redis,
      prefix,
      fileFeeds: [],
      fileSubscriptions: () => fileSubs,
      pollIntervalMs: 60_000,
    });
    try {
      await catalog.ready;
      const first = catalog.subscriptions();
      fileSubs = [...fileSubs];
      // Same content in a new array: no change signalled to the notifier.
      expect(catalog.subscriptions()).toBe(first);
      fileSubs = [sub('s1', ['a@example.com', 'B@example.com']), sub('s2')];
      expect(catalog.subscriptions().map((s) => s.id)).toEqual(['s1', 's2']);

      let changed = nextChange(catalog);
      await store.setPaused('s1', true);
      await changed;
      expect(catalog.subscriptions()[0]?.paused).toBe(true);

      changed = nextChange(catalog);
      await store.setPaused('s1', false);
      await store.unsubscribe('s1', ['b@example.com']);
      await changed;
      await catalog.refresh();
      const s1 = catalog.subscriptions()[0]!;
      expect(s1.paused).toBe(false);
      expect(s1.channels).toEqual([{ type: 'email', to: ['a@example.com'] }]);
      expect(await store.unsubscribedOf('s1')).toMatchObject([{ address: 'b@example.com' }]);
    } finally {
      await catalog.close();
    }
  });
});

describe('applySubscriptionState', () => {
  it('drops an emptied email channel and pauses a subscription left without channels', () => {
    const two = SubscriptionSchema.parse({
      id: 's',
      team: 't',
      channels: [
        { type: 'email', to: ['x@example.com'] },
        { type: 'webhook', url: 'https://h.example/x', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      ],
    });
    const out = applySubscriptionState(two, undefined, new Set(['x@example.com']));
    expect(out.channels.map((c) => c.type)).toEqual(['webhook']);
    expect(out.paused).toBe(false);
    const only = sub('s', ['x@example.com']);
    const paused = applySubscriptionState(only, false, new Set(['x@example.com']));
    expect(paused.paused).toBe(true);
    expect(applySubscriptionState(only, undefined, new Set(['y@example.com']))).toBe(only);
  });
});
