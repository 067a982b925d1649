import {
  EmailChannelSchema,
  type FeedSource,
  feedSourceSchemaWith,
  type Subscription,
  SubscriptionSchema,
  WebhookChannelSchema,
} from '@regwatch/contracts';
import {
  applySubscriptionState,
  type CatalogSnapshot,
  type CatalogSource,
  type CatalogStore,
  mergeFeeds,
} from '@regwatch/store';
import { z } from 'zod';

/** The config file's entries, read again on each request (a getter follows a config reload). */
export interface FileCatalog {
  feeds: () => readonly FeedSource[];
  subscriptions: () => readonly Subscription[];
}

export const CatalogSourceSchema = z
  .enum(['file', 'api'])
  .describe('`file`: from the config file, read-only over the API; `api`: made over the API or the CLI');

export const FeedViewSchema = feedSourceSchemaWith({ source: CatalogSourceSchema });
export type FeedView = z.infer<typeof FeedViewSchema>;

const REDACTED = '[redacted]';

/** A subscription as the API shows it: secrets redacted, runtime state applied. */
export const SubscriptionViewSchema = SubscriptionSchema.extend({
  channels: z.array(
    z.union([
      WebhookChannelSchema.extend({
        secret: z.union([z.string(), z.array(z.string())]).describe('always "[redacted]"'),
      }),
      EmailChannelSchema,
    ]),
  ),
  source: CatalogSourceSchema,
  unsubscribed: z
    .array(z.string())
    .describe('addresses that used their one-click unsubscribe link; they are left out of `channels`'),
});
export type SubscriptionView = z.infer<typeof SubscriptionViewSchema>;

export interface Located<T> {
  item: T;
  source: CatalogSource;
}

/** Every feed the workers run, file first, each with where it comes from. */
export function locateFeeds(
  file: readonly FeedSource[],
  snapshot: Pick<CatalogSnapshot, 'feeds'>,
): Located<FeedSource>[] {
  const fileIds = new Set(file.map((f) => f.id));
  return mergeFeeds(file, snapshot.feeds).map((item) => ({ item, source: fileIds.has(item.id) ? 'file' : 'api' }));
}

/** Every subscription the workers run, with runtime state applied and where it comes from. */
export function locateSubscriptions(
  file: readonly Subscription[],
  snapshot: Pick<CatalogSnapshot, 'subscriptions' | 'paused' | 'unsubscribed'>,
): Located<Subscription>[] {
  const fileIds = new Set(file.map((s) => s.id));
  return [...file, ...snapshot.subscriptions.filter((s) => !fileIds.has(s.id))].map((s) => ({
    item: applySubscriptionState(s, snapshot.paused.get(s.id), snapshot.unsubscribed.get(s.id)),
    source: fileIds.has(s.id) ? 'file' : 'api',
  }));
}

export function feedView({ item, source }: Located<FeedSource>): FeedView {
  return { ...item, source };
}

export function subscriptionView(
  { item, source }: Located<Subscription>,
  snapshot: Pick<CatalogSnapshot, 'unsubscribed'>,
): SubscriptionView {
  return {
    ...item,
    channels: item.channels.map((c) =>
      c.type === 'webhook' ? { ...c, secret: Array.isArray(c.secret) ? c.secret.map(() => REDACTED) : REDACTED } : c,
    ),
    source,
    unsubscribed: [...(snapshot.unsubscribed.get(item.id) ?? [])].sort(),
  };
}

/** Reads the catalog once for a request: the API entries at one version plus the file's. */
export async function readCatalog(store: CatalogStore, file: FileCatalog) {
  const snapshot = await store.snapshot();
  return {
    snapshot,
    feeds: () => locateFeeds(file.feeds(), snapshot),
    subscriptions: () => locateSubscriptions(file.subscriptions(), snapshot),
  };
}
