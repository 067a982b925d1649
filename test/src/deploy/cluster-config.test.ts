import { createRedis, duplicateRedis, isCluster, parseClusterNodes } from '@regwatch/queue';
import type { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';

describe('REDIS_CLUSTER_NODES', () => {
  it('parses host:port lists, IPv6 in brackets, and names a bad entry', () => {
    expect(parseClusterNodes('10.0.0.1:7000, redis-1.redis:7001,[::1]:7002')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-1.redis', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(() => parseClusterNodes('redis-1:7000,redis-2')).toThrow('"redis-2" is not host:port');
    expect(() => parseClusterNodes('redis-1:70000')).toThrow('"redis-1:70000" is not host:port');
    expect(() => parseClusterNodes('::1:7000')).toThrow(/not host:port/);
  });
});

describe('createRedis with cluster nodes', () => {
  const nodes = [{ host: '127.0.0.1', port: 7101 }];

  it('gives workers a Cluster BullMQ accepts: maxRetriesPerRequest null in redisOptions, offline queue on', () => {
    const redis = createRedis({ clusterNodes: nodes }, 'worker', { lazyConnect: true });
    try {
      expect(isCluster(redis)).toBe(true);
      const options = (redis as unknown as Cluster).options;
      // BullMQ reads a Cluster's redisOptions and refuses a blocking worker without this.
      expect(options.redisOptions?.maxRetriesPerRequest).toBeNull();
      expect(options.enableOfflineQueue).toBe(true);
      expect(options.enableReadyCheck).toBe(true);
      expect(typeof redis.duplicate).toBe('function');
    } finally {
      redis.disconnect();
    }
  });

  it('makes producers fail fast and takes credentials and TLS from REDIS_URL', () => {
    const redis = createRedis(
      { url: 'rediss://regwatch:s%40cret@ignored-host:6380', clusterNodes: nodes },
      'producer',
      { lazyConnect: true },
    );
    try {
      const options = (redis as unknown as Cluster).options;
      expect(options.enableOfflineQueue).toBe(false);
      expect(options.redisOptions).toMatchObject({
        maxRetriesPerRequest: 1,
        username: 'regwatch',
        password: 's@cret',
        tls: {},
      });
    } finally {
      redis.disconnect();
    }
  });

  it('duplicates a Cluster with the overrides applied (Cluster#duplicate alone would drop them)', () => {
    const producer = createRedis({ url: 'redis://:pw@x:1', clusterNodes: nodes }, 'producer', { lazyConnect: true });
    const subscriber = duplicateRedis(producer, {
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectionName: 'regwatch-subscriber',
    });
    try {
      expect(isCluster(subscriber)).toBe(true);
      const options = (subscriber as unknown as Cluster).options;
      expect(options.enableOfflineQueue).toBe(true);
      expect(options.redisOptions).toMatchObject({
        maxRetriesPerRequest: null,
        connectionName: 'regwatch-subscriber',
        password: 'pw',
      });
      expect((subscriber as unknown as { startupNodes: unknown }).startupNodes).toEqual(nodes);
    } finally {
      subscriber.disconnect();
      producer.disconnect();
    }
  });

  it('stays a single connection without cluster nodes', () => {
    const redis = createRedis({ url: 'redis://127.0.0.1:6379' }, 'worker', { lazyConnect: true });
    try {
      expect(isCluster(redis)).toBe(false);
      expect(redis.options.maxRetriesPerRequest).toBeNull();
    } finally {
      redis.disconnect();
    }
  });
});
