import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { scanKeys, stateKey } from './connection.js';

export interface Heartbeat {
  service: string;
  instance: string;
  pid: number;
  at: string;
  rssBytes: number;
  heapUsedBytes: number;
}

const INTERVAL_MS = 5_000;
const TTL_SECONDS = 20;

/**
 * Every few seconds, each service instance writes who it is and its memory into a key that
 * expires: readiness checks and the ops view see which workers are alive, benchmarks read
 * their memory. A missed beat for 20 s means the instance is gone or stuck.
 */
export function startHeartbeat(redis: Redis, prefix: string, service: string): { close(): Promise<void> } {
  const instance = `${hostname()}-${process.pid}`;
  const key = stateKey(prefix, 'heartbeat', service, instance);
  const beat = async () => {
    const mem = process.memoryUsage();
    const value: Heartbeat = {
      service,
      instance,
      pid: process.pid,
      at: new Date().toISOString(),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
    };
    await redis.set(key, JSON.stringify(value), 'EX', TTL_SECONDS);
  };
  const timer = setInterval(() => void beat().catch(() => {}), INTERVAL_MS);
  timer.unref();
  void beat().catch(() => {});
  return {
    close: async () => {
      clearInterval(timer);
      await redis.del(key).catch(() => 0);
    },
  };
}

/** Live heartbeats, optionally of one service (on a cluster, every master is scanned). */
export async function readHeartbeats(redis: Redis, prefix: string, service = '*'): Promise<Heartbeat[]> {
  const keys = await scanKeys(redis, stateKey(prefix, 'heartbeat', service, '*'));
  if (keys.length === 0) return [];
  const values = await redis.mget(keys);
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as Heartbeat);
}
