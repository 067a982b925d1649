import { bullPrefix, readHeartbeats } from '@regwatch/queue';
import type { Engine } from '@regwatch/rules';
import { AlertStore } from '@regwatch/store';
import type { Redis } from 'ioredis';
import { deletePrefix } from '../helpers/redis.js';
import { sleep } from './stats.js';
import { alertFor, createStorySource } from './stories.js';

export interface WorkerMemory {
  service: string;
  rssBytes: number;
  heapUsedBytes: number;
  /** When the heartbeat was written. */
  at: string;
}

/**
 * Each service's memory from its heartbeat (every service writes one every 5 s): waits, up to
 * `timeoutMs`, for a beat written after `after`, so the figure is from the end of the load.
 */
export async function readWorkerMemory(
  redis: Redis,
  prefix: string,
  services: readonly string[],
  after: number,
  timeoutMs = 7_000,
): Promise<WorkerMemory[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const beats = await Promise.all(services.map(async (s) => (await readHeartbeats(redis, prefix, s))[0]));
    const fresh = beats.every((b) => b && Date.parse(b.at) >= after);
    if (fresh || Date.now() > deadline) {
      return services.map((service, i) => {
        const b = beats[i];
        return {
          service,
          rssBytes: b?.rssBytes ?? Number.NaN,
          heapUsedBytes: b?.heapUsedBytes ?? Number.NaN,
          at: b?.at ?? '',
        };
      });
    }
    await sleep(250);
  }
}

/** Bytes Redis holds under a prefix: MEMORY USAGE (all samples) of every key, summed. */
export async function prefixBytes(redis: Redis, prefix: string): Promise<{ keys: number; bytes: number }> {
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${bullPrefix(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of found) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    for (const [err, n] of (await pipeline.exec()) ?? []) {
      if (!err && typeof n === 'number') {
        bytes += n;
        keys++;
      }
    }
  } while (cursor !== '0');
  return { keys, bytes };
}

/** A field of INFO (e.g. `used_memory`), as a number. */
export async function infoNumber(redis: Redis, section: string, field: string): Promise<number> {
  const text = await redis.info(section);
  const m = new RegExp(`^${field}:([\\d.]+)`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

export interface AlertBytes {
  alerts: number;
  /** MEMORY USAGE of the alert values, the time index and the story sets, per alert. */
  bytesPerAlert: number;
  /** The same from INFO used_memory before and after: noisier, other clients share the server. */
  usedMemoryBytesPerAlert: number;
  /** Mean length of one stored alert's JSON. */
  jsonBytesPerAlert: number;
}

/**
 * Redis memory per retained alert: saves `count` realistic alerts (classified headlines with their
 * evidence) through AlertStore on a throw-away prefix, measures, and deletes the prefix.
 */
export async function measureAlertBytes(
  redis: Redis,
  prefix: string,
  engine: Engine,
  count: number,
): Promise<AlertBytes> {
  const now = new Date();
  const alerts = createStorySource(99, engine)
    .take(count)
    .map((s, i) => alertFor(s, i, 'bench-feed', engine, now));
  const store = new AlertStore(redis, { prefix });
  const before = await infoNumber(redis, 'memory', 'used_memory');
  for (let i = 0; i < alerts.length; i += 100) await Promise.all(alerts.slice(i, i + 100).map((a) => store.save(a)));
  const after = await infoNumber(redis, 'memory', 'used_memory');
  const { bytes } = await prefixBytes(redis, prefix);
  await deletePrefix(redis, prefix);
  return {
    alerts: count,
    bytesPerAlert: Math.round(bytes / count),
    usedMemoryBytesPerAlert: Math.round((after - before) / count),
    jsonBytesPerAlert: Math.round(alerts.reduce((n, a) => n + JSON.stringify(a).length, 0) / count),
  };
}
