import { type FeedSource, QUEUES, type QueueName, type Subscription } from '@regwatch/contracts';
import type { Logger } from '@regwatch/logger';
import { notifierStores } from '@regwatch/notifier';
import { createQueue, stateKey } from '@regwatch/queue';
import { AlertStore, CatalogStore, FeedStateStore, SourceIncidentStore } from '@regwatch/store';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { TokenStore } from './auth/tokens.js';
import type { FileCatalog } from './domain/catalog-view.js';

export interface ApiDeps {
  /** A producer-role connection: fails fast while Redis is away instead of hanging requests. */
  connection: Redis;
  prefix: string;
  log: Logger;
  /** The config file's feeds and subscriptions (a getter follows a config reload). Default none. */
  fileFeeds?: readonly FeedSource[] | (() => readonly FeedSource[]);
  fileSubscriptions?: readonly Subscription[] | (() => readonly Subscription[]);
  /** Services that must have a live heartbeat for /readyz to answer 200. Default poller, classifier, notifier. */
  requiredServices?: readonly string[];
  /** `REGWATCH_UNSUBSCRIBE_SECRET`; unset: the key the notifier keeps in Redis. */
  unsubscribeSecret?: string;
  /** Requests per token (or per address, without one) per window; false turns it off. Default 600 a minute. */
  rateLimit?: { max: number; timeWindowMs: number } | false;
  /** `METRICS_TOKEN`: a bearer token that may read /metrics besides ops/admin API tokens. */
  metricsToken?: string;
  /** Attempts a test send gets: `retryScheduleOf(REGWATCH_RETRY_SCHEDULE).attempts`, as the notifier's own. */
  deliveryAttempts?: number;
}

/** What route handlers share: stores over one connection, the queues, the file catalog. */
export interface ApiContext {
  redis: Redis;
  prefix: string;
  log: Logger;
  catalog: CatalogStore;
  file: FileCatalog;
  alerts: AlertStore;
  feedState: FeedStateStore;
  /** Source alarms: open incidents and the learnt cadence, per feed (written by the poller). */
  sourceHealth: SourceIncidentStore;
  tokens: TokenStore;
  notifier: ReturnType<typeof notifierStores>;
  queues: Record<QueueName, Queue>;
  requiredServices: readonly string[];
  /** Attempts a delivery job gets (the configured retry schedule); undefined: the built-in schedule's. */
  deliveryAttempts: number | undefined;
  /** The unsubscribe HMAC key, or undefined when none exists yet (no link was ever signed). */
  unsubscribeSecret(): Promise<string | undefined>;
}

function getter<T>(value: readonly T[] | (() => readonly T[]) | undefined): () => readonly T[] {
  if (typeof value === 'function') return value;
  const list = value ?? [];
  return () => list;
}

export function createContext(deps: ApiDeps): ApiContext {
  const { connection: redis, prefix } = deps;
  const queues = Object.fromEntries(
    Object.values(QUEUES).map((name) => [name, createQueue(name, { connection: redis, prefix })]),
  ) as Record<QueueName, Queue>;
  let secret = deps.unsubscribeSecret;
  return {
    redis,
    prefix,
    log: deps.log,
    catalog: new CatalogStore(redis, prefix),
    file: { feeds: getter(deps.fileFeeds), subscriptions: getter(deps.fileSubscriptions) },
    alerts: new AlertStore(redis, { prefix }),
    feedState: new FeedStateStore(redis, prefix),
    sourceHealth: new SourceIncidentStore(redis, prefix),
    tokens: new TokenStore(redis, prefix),
    notifier: notifierStores({ connection: redis, prefix }),
    queues,
    requiredServices: deps.requiredServices ?? ['poller', 'classifier', 'notifier'],
    deliveryAttempts: deps.deliveryAttempts,
    unsubscribeSecret: async () => {
      // The notifier creates the key once (SET NX) and never changes it, so it can be cached.
      secret ??= (await redis.get(stateKey(prefix, 'secret', 'unsubscribe'))) ?? undefined;
      return secret;
    },
  };
}
