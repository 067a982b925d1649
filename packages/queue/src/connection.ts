import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { CoalescingConnector } from './coalesce-writes.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Workers block on Redis and must retry forever (`maxRetriesPerRequest: null`, BullMQ's
 * requirement); producers such as the api fail fast instead of queueing commands while Redis
 * is away (`enableOfflineQueue: false`), so an HTTP request errors instead of hanging.
 */
export type ConnectionRole = 'worker' | 'producer';

/**
 * Where Redis is: one server by URL, or a Redis Cluster by its seed nodes. With `clusterNodes`,
 * only the URL's user, password and `rediss:` (TLS) are used, for every node.
 */
export interface RedisTarget {
  url?: string | undefined;
  clusterNodes?: ReadonlyArray<ClusterNode> | undefined;
}

export interface ClusterNode {
  host: string;
  port: number;
}

/** `REDIS_CLUSTER_NODES` (`host:port,host:port`, IPv6 as `[::1]:7000`) → seed nodes; throws naming the bad entry. */
export function parseClusterNodes(value: string): ClusterNode[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(entry);
      const port = Number(m?.[3]);
      if (!m || port < 1 || port > 65_535) throw new Error(`"${entry}" is not host:port`);
      return { host: (m[1] ?? m[2])!, port };
    });
}

function backoff(times: number): number {
  return Math.min(200 * 2 ** Math.min(times, 6), 10_000);
}

/**
 * A Redis connection for a role. A cluster target gives an ioredis `Cluster`, typed as `Redis`:
 * BullMQ accepts a Cluster wherever it takes a connection, and regwatch's commands all touch keys
 * of one hash slot (`{prefix}`), so they route as on a single server. Two things differ and are
 * handled where used: SCAN/KEYS see one node only (use `masterNodes`), and `options` is shaped
 * differently (BullMQ reads `redisOptions`, where `maxRetriesPerRequest: null` is set for workers).
 */
export function createRedis(
  target: string | RedisTarget = DEFAULT_REDIS_URL,
  role: ConnectionRole = 'worker',
  extra: RedisOptions & { coalesceWrites?: boolean } = {},
): Redis {
  const { url = DEFAULT_REDIS_URL, clusterNodes } = typeof target === 'string' ? { url: target } : target;
  const { coalesceWrites = true, ...options } = extra;
  const common: RedisOptions = {
    lazyConnect: false,
    connectionName: `regwatch-${role}`,
    // Reconnect with a capped backoff; BullMQ workers resume consuming once Redis is back.
    retryStrategy: backoff,
    // Commands written at the same moment leave in one system call (see coalesce-writes.ts). An
    // option rather than a hook, so connections duplicated from this one (BullMQ's) have it too.
    ...(coalesceWrites ? { Connector: CoalescingConnector as unknown as RedisOptions['Connector'] } : {}),
    ...options,
  };
  if (clusterNodes && clusterNodes.length > 0) return createCluster(clusterNodes, url, role, common);
  if (role === 'worker') return new Redis(url, { ...common, maxRetriesPerRequest: null });
  return new Redis(url, { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false });
}

function createCluster(
  nodes: ReadonlyArray<ClusterNode>,
  url: string,
  role: ConnectionRole,
  common: RedisOptions,
): Redis {
  const { retryStrategy, lazyConnect, enableOfflineQueue: _ignored, ...nodeOptions } = common;
  const auth = new URL(url);
  const redisOptions: ClusterOptions['redisOptions'] = {
    ...nodeOptions,
    ...(auth.username ? { username: decodeURIComponent(auth.username) } : {}),
    ...(auth.password ? { password: decodeURIComponent(auth.password) } : {}),
    ...(auth.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: role === 'worker' ? null : 1,
  };
  const cluster = new Cluster(
    nodes.map((n) => ({ ...n })),
    {
      redisOptions,
      // Producers fail fast while the cluster is not ready, as they do against one server.
      enableOfflineQueue: role === 'worker',
      enableReadyCheck: true,
      clusterRetryStrategy: retryStrategy ?? backoff,
      ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    },
  );
  return cluster as unknown as Redis;
}

/**
 * `redis.duplicate(overrides)` that works on a Cluster too. `Cluster#duplicate(startupNodes,
 * options)` would read the overrides as startup nodes and silently drop them (a subscriber
 * duplicated from a fail-fast producer would then refuse SUBSCRIBE until the cluster is ready):
 * here node options go into `redisOptions`, the offline queue and retry strategy to the cluster.
 */
export function duplicateRedis(redis: Redis, overrides: RedisOptions = {}): Redis {
  if (!isCluster(redis)) return redis.duplicate(overrides);
  const cluster = redis as unknown as Cluster;
  const { enableOfflineQueue, retryStrategy, lazyConnect, ...nodeOptions } = overrides;
  return cluster.duplicate([], {
    redisOptions: { ...cluster.options.redisOptions, ...nodeOptions },
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(retryStrategy !== undefined ? { clusterRetryStrategy: retryStrategy } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
  }) as unknown as Redis;
}

/** True for a connection made with cluster nodes. */
export function isCluster(redis: Redis): boolean {
  return redis.isCluster === true;
}

/**
 * The connections to scan: the connection itself, or each master of a cluster (SCAN and KEYS
 * on a Cluster client reach one random node and would silently miss keys on the others).
 */
export function masterNodes(redis: Redis): Redis[] {
  return isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
}

/** Every key matching a pattern, on every master. */
export async function scanKeys(redis: Redis, pattern: string, count = 500): Promise<string[]> {
  const keys: string[] = [];
  for (const node of masterNodes(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
  }
  return keys;
}

/**
 * The BullMQ prefix, wrapped in a Redis Cluster hash tag so every key of every queue lands in
 * one slot (BullMQ's Lua scripts touch several keys of a queue at once).
 */
export function bullPrefix(prefix: string): string {
  return `{${prefix}}`;
}

/** Key for regwatch's own state, in the same hash slot as the queues. */
export function stateKey(prefix: string, ...parts: string[]): string {
  return [bullPrefix(prefix), ...parts].join(':');
}

/** Waits until Redis answers PING or the deadline passes. */
export async function waitForRedis(redis: Redis, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if ((await redis.ping()) === 'PONG') return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Redis did not answer within ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
