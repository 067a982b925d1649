import { QUEUES } from '@regwatch/contracts';
import type { Redis } from 'ioredis';

/** BullMQ's own per-queue keys (everything else under `{prefix}:<queue>:` is a job or a job's lock/logs). */
const QUEUE_KEYS = new Set([
  'id',
  'meta',
  'events',
  'wait',
  'paused',
  'active',
  'delayed',
  'completed',
  'failed',
  'prioritized',
  'stalled-check',
  'stalled',
  'marker',
  'pc',
  'limiter',
  'repeat',
  'de',
  'metrics',
]);
const QUEUE_NAMES = new Set<string>(Object.values(QUEUES));

/**
 * A key's class: the key with its ids cut off. `{soak}:delivery:<id>` → `delivery`,
 * `{soak}:items:<jobId>` → `items jobs`, `{soak}:items:completed` → `items:completed`,
 * `{soak}:items:<jobId>:lock` → `items job lock`.
 */
export function keyClass(key: string): string {
  const m = /^\{[^}]+\}:(.*)$/.exec(key);
  if (!m) return `(outside the prefix) ${key.split(':')[0]}`;
  const parts = m[1]!.split(':');
  const [first, second] = parts;
  if (first !== undefined && QUEUE_NAMES.has(first)) {
    if (second === undefined) return first;
    if (QUEUE_KEYS.has(second)) return `${first}:${second}`;
    if (parts.length > 2) return `${first} job ${parts.at(-1)}`;
    return `${first} jobs`;
  }
  return first ?? key;
}

/**
 * How each class without a TTL on every key is bounded anyway (the bounded-state table in
 * docs/operations.md). A class not listed here whose keys lack a TTL fails the audit.
 */
export const CAPPED: Record<string, string> = {
  'polls jobs': 'removeOnComplete/removeOnFail: count and age',
  'items jobs': 'removeOnComplete/removeOnFail: count and age',
  'alerts jobs': 'removeOnComplete/removeOnFail: count and age',
  'deliveries jobs': 'removeOnComplete/removeOnFail: count and age',
  'ops jobs': 'removeOnComplete/removeOnFail: count and age',
  'polls:completed': 'removeOnComplete count',
  'items:completed': 'removeOnComplete count',
  'alerts:completed': 'removeOnComplete count',
  'deliveries:completed': 'removeOnComplete count',
  'ops:completed': 'removeOnComplete count',
  'polls:failed': 'removeOnFail count',
  'items:failed': 'removeOnFail count',
  'alerts:failed': 'removeOnFail count',
  'deliveries:failed': 'removeOnFail count',
  'polls:events': 'stream MAXLEN (BullMQ maxLenEvents)',
  'items:events': 'stream MAXLEN (BullMQ maxLenEvents)',
  'alerts:events': 'stream MAXLEN (BullMQ maxLenEvents)',
  'deliveries:events': 'stream MAXLEN (BullMQ maxLenEvents)',
  'ops:events': 'stream MAXLEN (BullMQ maxLenEvents)',
  'polls:repeat': 'one job scheduler per configured feed',
  'polls:de': 'deduplication keys; BullMQ sets their TTL',
  stories: 'stream XADD MAXLEN ~ 20 000',
  alerts: 'sorted set trimmed to 30 days on every save',
  feed: 'one hash per configured feed',
  secret: 'one key',
  catalog: 'what operators create through the API',
  'api-tokens': 'one member per issued token',
  'api-token': 'one per issued token',
  'channels-disabled': 'one member per disabled channel',
  'channel-health': 'one hash per disabled channel (TTL while only failing)',
  'dead-letters': 'index trimmed by age and to 10 000',
};
/** Queue-level singletons (`<queue>:id`, `:meta`, `:wait`, …): one key each, no growth. */
const isQueueSingleton = (name: string) => {
  const [queue, key] = name.split(':');
  return queue !== undefined && QUEUE_NAMES.has(queue) && key !== undefined && QUEUE_KEYS.has(key);
};

export interface KeyClassAudit {
  name: string;
  keys: number;
  noTtl: number;
  bytes: number;
  /** Shortest and longest TTL among the keys that have one, e.g. `19 s–14 d`. */
  ttlRange: string;
  /** What bounds it: the TTL, or the cap from {@link CAPPED}. */
  bound: string;
  /** Keys without a TTL in a class nothing else bounds. */
  unbounded: boolean;
}

export interface KeyAudit {
  keys: number;
  classes: KeyClassAudit[];
}

function duration(ms: number): string {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(ms % 86_400_000 === 0 ? 0 : 1)} d`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${Math.round(ms / 1000)} s`;
}

/** SCAN + PTTL + MEMORY USAGE of every key, by class: what has a TTL, what has a cap, and what has neither. */
export async function auditKeys(redis: Redis): Promise<KeyAudit> {
  const acc = new Map<string, { keys: number; noTtl: number; bytes: number; minTtl: number; maxTtl: number }>();
  let cursor = '0';
  let total = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 2000);
    cursor = next;
    if (keys.length === 0) continue;
    const p = redis.pipeline();
    for (const k of keys) p.pttl(k).call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
    const res = (await p.exec()) ?? [];
    keys.forEach((k, i) => {
      const ttl = Number(res[2 * i]?.[1] ?? -2);
      if (ttl === -2) return; // gone meanwhile
      const bytes = Number(res[2 * i + 1]?.[1] ?? 0);
      const name = keyClass(k);
      const a = acc.get(name) ?? { keys: 0, noTtl: 0, bytes: 0, minTtl: Number.POSITIVE_INFINITY, maxTtl: 0 };
      a.keys++;
      a.bytes += bytes;
      if (ttl < 0) a.noTtl++;
      else {
        a.minTtl = Math.min(a.minTtl, ttl);
        a.maxTtl = Math.max(a.maxTtl, ttl);
      }
      acc.set(name, a);
      total++;
    });
  } while (cursor !== '0');
  const classes = [...acc.entries()]
    .map(([name, a]): KeyClassAudit => {
      const capped = CAPPED[name] ?? (isQueueSingleton(name) ? 'one key per queue' : undefined);
      const ttlRange = a.keys > a.noTtl ? `${duration(a.minTtl)}–${duration(a.maxTtl)}` : '—';
      return {
        name,
        keys: a.keys,
        noTtl: a.noTtl,
        bytes: a.bytes,
        ttlRange,
        bound: a.noTtl === 0 ? 'TTL on every key' : (capped ?? '**none**'),
        unbounded: a.noTtl > 0 && capped === undefined,
      };
    })
    .sort((x, y) => y.bytes - x.bytes);
  return { keys: total, classes };
}
