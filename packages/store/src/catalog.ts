import { type FeedSource, FeedSourceSchema, type Subscription, SubscriptionSchema } from '@regwatch/contracts';
import { duplicateRedis, stateKey } from '@regwatch/queue';
import type { Redis } from 'ioredis';

/**
 * The live catalog: feeds and subscriptions made over the API (or the CLI), kept in Redis next
 * to the config file's, with a version counter and a pub/sub message on every change so workers
 * pick changes up without a restart.
 *
 * Precedence: the config file wins. An API entry whose id the file also uses is ignored by the
 * workers, and the API refuses to create, replace or delete such an id (409). Two things are
 * runtime state rather than definition and apply to file entries too: a pause/resume override
 * and the addresses that used a one-click unsubscribe link.
 */

/** Where an entry comes from. */
export type CatalogSource = 'file' | 'api';

/** An address that used a one-click unsubscribe link, per subscription. */
export interface Unsubscribed {
  subscriptionId: string;
  address: string;
  at: string;
}

/** What the API side of the catalog holds at one version. */
export interface CatalogSnapshot {
  version: number;
  feeds: FeedSource[];
  subscriptions: Subscription[];
  /** Pause overrides by subscription id (pause/resume endpoints, unsubscribe). */
  paused: ReadonlyMap<string, boolean>;
  /** Unsubscribed addresses (lower-case) by subscription id. */
  unsubscribed: ReadonlyMap<string, ReadonlySet<string>>;
}

function keys(prefix: string) {
  const k = (...parts: string[]) => stateKey(prefix, 'catalog', ...parts);
  return {
    feeds: k('feeds'),
    subscriptions: k('subscriptions'),
    paused: k('paused'),
    unsubscribed: k('unsubscribed'),
    version: k('version'),
    channel: k('changed'),
  };
}

/** The pub/sub channel a catalog change is announced on (the message is the new version). */
export function catalogChannel(prefix: string): string {
  return keys(prefix).channel;
}

type Tx = ReturnType<Redis['multi']>;

/**
 * Reads and writes the API-made entries. Every write is one MULTI that also bumps the version
 * and publishes it; nothing here knows about the config file (callers check precedence).
 */
export class CatalogStore {
  private readonly k: ReturnType<typeof keys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.k = keys(prefix);
  }

  private async commit(tx: Tx): Promise<Array<[Error | null, unknown]>> {
    tx.incr(this.k.version);
    const results = (await tx.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
    const version = results[results.length - 1]?.[1];
    await this.redis.publish(this.k.channel, String(version));
    return results;
  }

  async version(): Promise<number> {
    return Number((await this.redis.get(this.k.version)) ?? 0);
  }

  /** Every API-made entry and override at one version, in one round trip. */
  async snapshot(): Promise<CatalogSnapshot> {
    const results =
      (await this.redis
        .multi()
        .get(this.k.version)
        .hgetall(this.k.feeds)
        .hgetall(this.k.subscriptions)
        .hgetall(this.k.paused)
        .hgetall(this.k.unsubscribed)
        .exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
    const [version, feeds, subs, paused, unsubscribed] = results.map(([, v]) => v) as [
      string | null,
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
    ];
    return {
      version: Number(version ?? 0),
      feeds: parseAll(feeds, (raw) => FeedSourceSchema.parse(raw)),
      subscriptions: parseAll(subs, (raw) => SubscriptionSchema.parse(raw)),
      paused: new Map(Object.entries(paused).map(([id, v]) => [id, v === '1'])),
      unsubscribed: groupUnsubscribed(unsubscribed),
    };
  }

  async feeds(): Promise<FeedSource[]> {
    return parseAll(await this.redis.hgetall(this.k.feeds), (raw) => FeedSourceSchema.parse(raw));
  }

  async feed(id: string): Promise<FeedSource | undefined> {
    const raw = await this.redis.hget(this.k.feeds, id);
    return raw === null ? undefined : FeedSourceSchema.parse(JSON.parse(raw));
  }

  /** Creates a feed; false when the id is taken. */
  async createFeed(feed: FeedSource): Promise<boolean> {
    const results = await this.commit(this.redis.multi().hsetnx(this.k.feeds, feed.id, JSON.stringify(feed)));
    return results[0]?.[1] === 1;
  }

  /** Creates or replaces a feed. */
  async putFeed(feed: FeedSource): Promise<void> {
    await this.commit(this.redis.multi().hset(this.k.feeds, feed.id, JSON.stringify(feed)));
  }

  /** True when it existed. */
  async removeFeed(id: string): Promise<boolean> {
    const results = await this.commit(this.redis.multi().hdel(this.k.feeds, id));
    return results[0]?.[1] === 1;
  }

  async subscriptions(): Promise<Subscription[]> {
    return parseAll(await this.redis.hgetall(this.k.subscriptions), (raw) => SubscriptionSchema.parse(raw));
  }

  async subscription(id: string): Promise<Subscription | undefined> {
    const raw = await this.redis.hget(this.k.subscriptions, id);
    return raw === null ? undefined : SubscriptionSchema.parse(JSON.parse(raw));
  }

  /** Creates a subscription; false when the id is taken. */
  async createSubscription(subscription: Subscription): Promise<boolean> {
    const tx = this.redis.multi().hsetnx(this.k.subscriptions, subscription.id, JSON.stringify(subscription));
    const results = await this.commit(tx);
    return results[0]?.[1] === 1;
  }

  /**
   * Creates or replaces a subscription. The body's `paused` applies: a pause override left by
   * pause/resume is cleared. Unsubscribed addresses stay unsubscribed.
   */
  async putSubscription(subscription: Subscription): Promise<void> {
    await this.commit(
      this.redis
        .multi()
        .hset(this.k.subscriptions, subscription.id, JSON.stringify(subscription))
        .hdel(this.k.paused, subscription.id),
    );
  }

  /** Removes a subscription with its overrides and unsubscribed addresses; true when it existed. */
  async removeSubscription(id: string): Promise<boolean> {
    const unsubscribed = await this.redis.hkeys(this.k.unsubscribed);
    const mine = unsubscribed.filter((field) => field.startsWith(`${id}\n`));
    const tx = this.redis.multi().hdel(this.k.subscriptions, id).hdel(this.k.paused, id);
    if (mine.length > 0) tx.hdel(this.k.unsubscribed, ...mine);
    const results = await this.commit(tx);
    return results[0]?.[1] === 1;
  }

  /** Pauses or resumes any subscription, from the file or the API, until it is replaced. */
  async setPaused(id: string, paused: boolean): Promise<void> {
    await this.commit(this.redis.multi().hset(this.k.paused, id, paused ? '1' : '0'));
  }

  /** Records that these addresses used their unsubscribe link; they get no more mail from it. */
  async unsubscribe(id: string, addresses: readonly string[], at = new Date()): Promise<void> {
    if (addresses.length === 0) return;
    const fields: Record<string, string> = {};
    for (const a of addresses) fields[`${id}\n${a.trim().toLowerCase()}`] = at.toISOString();
    await this.commit(this.redis.multi().hset(this.k.unsubscribed, fields));
  }

  /** Every unsubscribed address of a subscription. */
  async unsubscribedOf(id: string): Promise<Unsubscribed[]> {
    const all = await this.redis.hgetall(this.k.unsubscribed);
    const out: Unsubscribed[] = [];
    for (const [field, at] of Object.entries(all)) {
      const [subscriptionId, address] = splitField(field);
      if (subscriptionId === id && address) out.push({ subscriptionId, address, at });
    }
    return out.sort((a, b) => a.address.localeCompare(b.address));
  }

  /** The pause override of a subscription, if one is set. */
  async pausedOverride(id: string): Promise<boolean | undefined> {
    const v = await this.redis.hget(this.k.paused, id);
    return v === null ? undefined : v === '1';
  }
}

function splitField(field: string): [string, string | undefined] {
  const i = field.indexOf('\n');
  return i < 0 ? [field, undefined] : [field.slice(0, i), field.slice(i + 1)];
}

function groupUnsubscribed(raw: Record<string, string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const field of Object.keys(raw)) {
    const [id, address] = splitField(field);
    if (!address) continue;
    const set = out.get(id) ?? new Set<string>();
    set.add(address);
    out.set(id, set);
  }
  return out;
}

/** Parses every value of a hash; an entry that no longer parses (an older schema) is skipped. */
function parseAll<T extends { id: string }>(raw: Record<string, string>, parse: (value: unknown) => T): T[] {
  const out: T[] = [];
  for (const value of Object.values(raw)) {
    try {
      out.push(parse(JSON.parse(value)));
    } catch {
      // Written through the same schema; only a schema change can get here. Skipping keeps the
      // other entries running; the API still shows the raw id as unreadable (it parses again).
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Feeds as the workers see them: the file's, then API-made ones whose id the file does not use. */
export function mergeFeeds(file: readonly FeedSource[], api: readonly FeedSource[]): FeedSource[] {
  const ids = new Set(file.map((f) => f.id));
  return [...file, ...api.filter((f) => !ids.has(f.id))];
}

/**
 * Applies runtime state to a subscription: the pause override, then unsubscribed addresses —
 * removed from its email channels; a channel left empty is dropped; a subscription left with
 * no channel is paused (its channels stay as they were, so the schema holds, but nothing is sent).
 */
export function applySubscriptionState(
  subscription: Subscription,
  paused: boolean | undefined,
  unsubscribed: ReadonlySet<string> | undefined,
): Subscription {
  let out = paused === undefined || paused === subscription.paused ? subscription : { ...subscription, paused };
  if (!unsubscribed || unsubscribed.size === 0) return out;
  let changed = false;
  const channels: Subscription['channels'] = [];
  for (const channel of out.channels) {
    if (channel.type !== 'email') {
      channels.push(channel);
      continue;
    }
    const to = channel.to.filter((a) => !unsubscribed.has(a.trim().toLowerCase()));
    if (to.length !== channel.to.length) changed = true;
    if (to.length > 0) channels.push(to.length === channel.to.length ? channel : { ...channel, to });
  }
  if (!changed) return out;
  out = channels.length > 0 ? { ...out, channels } : { ...out, paused: true };
  return out;
}

/** Subscriptions as the workers see them: file first (file wins on id), runtime state applied. */
export function mergeSubscriptions(
  file: readonly Subscription[],
  snapshot: Pick<CatalogSnapshot, 'subscriptions' | 'paused' | 'unsubscribed'>,
): Subscription[] {
  const ids = new Set(file.map((s) => s.id));
  return [...file, ...snapshot.subscriptions.filter((s) => !ids.has(s.id))].map((s) =>
    applySubscriptionState(s, snapshot.paused.get(s.id), snapshot.unsubscribed.get(s.id)),
  );
}

export interface LiveCatalogOptions {
  /** A connection for reads (any role); a dedicated subscriber connection is duplicated from it. */
  redis: Redis;
  prefix: string;
  /** The config file's feeds: a list, or a getter whose result changes on a config reload. */
  fileFeeds: readonly FeedSource[] | (() => readonly FeedSource[]);
  fileSubscriptions: readonly Subscription[] | (() => readonly Subscription[]);
  /** How often the version is polled as well, in case a pub/sub message was lost. Default 2 s. */
  pollIntervalMs?: number;
  /** Called when a reload fails (Redis away); the last good lists stay. */
  onError?: (err: unknown) => void;
}

export interface LiveCatalog {
  /** The merged feed list; a new array only when it changed. */
  feeds(): readonly FeedSource[];
  /** The merged subscription list; a new array only when it changed. */
  subscriptions(): readonly Subscription[];
  /** Resolves once the API entries were loaded; until then the getters give the file's alone. */
  ready: Promise<void>;
  /** The catalog version last loaded. */
  version(): number;
  /** Calls `listener` after a reload that changed the feeds or the subscriptions. */
  onChange(listener: () => void): () => void;
  /** Loads the API entries now (tests, or after a write in the same process). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** Keeps the previous array when the new one has the same content, so identity means "changed". */
function keepIfSame<T>(previous: readonly T[] | undefined, next: T[]): readonly T[] {
  if (previous && previous.length === next.length && JSON.stringify(previous) === JSON.stringify(next)) return previous;
  return Object.freeze(next);
}

/**
 * The catalog as a worker reads it: file and API entries merged, kept current by a pub/sub
 * subscription (a dedicated connection) and a version poll. The getters are synchronous and cheap.
 */
export function createLiveCatalog(options: LiveCatalogOptions): LiveCatalog {
  const store = new CatalogStore(options.redis, options.prefix);
  const fileFeeds =
    typeof options.fileFeeds === 'function' ? options.fileFeeds : () => options.fileFeeds as readonly FeedSource[];
  const fileSubs =
    typeof options.fileSubscriptions === 'function'
      ? options.fileSubscriptions
      : () => options.fileSubscriptions as readonly Subscription[];
  const onError = options.onError ?? (() => {});
  const listeners = new Set<() => void>();

  let snapshot: CatalogSnapshot = {
    version: -1,
    feeds: [],
    subscriptions: [],
    paused: new Map(),
    unsubscribed: new Map(),
  };
  let feedsCache: { file: readonly FeedSource[]; snap: CatalogSnapshot; out: readonly FeedSource[] } | undefined;
  let subsCache: { file: readonly Subscription[]; snap: CatalogSnapshot; out: readonly Subscription[] } | undefined;

  const feeds = (): readonly FeedSource[] => {
    const file = fileFeeds();
    if (feedsCache?.file !== file || feedsCache.snap !== snapshot) {
      feedsCache = { file, snap: snapshot, out: keepIfSame(feedsCache?.out, mergeFeeds(file, snapshot.feeds)) };
    }
    return feedsCache.out;
  };
  const subscriptions = (): readonly Subscription[] => {
    const file = fileSubs();
    if (subsCache?.file !== file || subsCache.snap !== snapshot) {
      subsCache = { file, snap: snapshot, out: keepIfSame(subsCache?.out, mergeSubscriptions(file, snapshot)) };
    }
    return subsCache.out;
  };

  // Reloads run one at a time; a signal during a reload asks for one more afterwards.
  let loading: Promise<void> | undefined;
  let again = false;
  const load = async (): Promise<void> => {
    do {
      again = false;
      const next = await store.snapshot();
      if (next.version === snapshot.version && snapshot.version >= 0) continue;
      const beforeFeeds = feeds();
      const beforeSubs = subscriptions();
      snapshot = next;
      if (feeds() !== beforeFeeds || subscriptions() !== beforeSubs) {
        for (const listener of listeners) {
          try {
            listener();
          } catch (err) {
            onError(err);
          }
        }
      }
    } while (again);
  };
  const refresh = (): Promise<void> => {
    if (loading) {
      again = true;
      return loading;
    }
    loading = load().finally(() => {
      loading = undefined;
    });
    return loading;
  };

  let closed = false;
  // A subscribed connection can run nothing else; it must queue SUBSCRIBE until connected and
  // resubscribe after a reconnect (duplicateRedis keeps these overrides on a Cluster too).
  const subscriber = duplicateRedis(options.redis, {
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectionName: 'regwatch-catalog-subscriber',
  });
  subscriber.on('error', () => {});
  subscriber.on('message', () => {
    if (!closed) refresh().catch(onError);
  });
  const channel = catalogChannel(options.prefix);
  const ready = Promise.all([subscriber.subscribe(channel), refresh()]).then(() => undefined);

  const poll = setInterval(() => {
    store
      .version()
      .then((v) => (v !== snapshot.version ? refresh() : undefined))
      .catch(onError);
  }, options.pollIntervalMs ?? 2_000);
  poll.unref();

  return {
    feeds,
    subscriptions,
    ready,
    version: () => snapshot.version,
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh,
    close: async () => {
      closed = true;
      clearInterval(poll);
      await loading?.catch(() => {});
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
