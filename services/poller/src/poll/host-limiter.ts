import { randomUUID } from 'node:crypto';
import { runScript, stateKey, tickPipelineOf } from '@regwatch/queue';
import type { Redis } from 'ioredis';

/**
 * Takes a slot when fewer than `limit` unexpired leases exist. Leases are members of a sorted
 * set scored by their expiry, on Redis's clock (TIME) so replicas with skewed clocks agree; an
 * expired lease (a poller that died mid-request) is dropped before counting.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0`;

export interface HostLimiterOptions {
  /** Requests at once to one host, across every replica. Default 2. */
  limit?: number;
  /** How long a lease lives if never released (a crashed poller). Default 30 s, twice the fetch deadline. */
  leaseMs?: number;
  /** How long `acquire` keeps trying before it gives up. Default 2 s. */
  maxWaitMs?: number;
}

/**
 * At most `limit` requests at once to one host, counted in Redis so the limit holds across
 * every poller replica (a counting semaphore with expiring leases). BullMQ's own group limits
 * are a BullMQ Pro feature, and an in-process limiter would allow `limit × replicas`.
 *
 * A poll that cannot get a slot within `maxWaitMs` gives up rather than holding one of the
 * worker's concurrency slots while it waits; the worker re-queues it a moment later.
 */
export class HostLimiter {
  readonly limit: number;
  private readonly leaseMs: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    options: HostLimiterOptions = {},
  ) {
    this.limit = options.limit ?? 2;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxWaitMs = options.maxWaitMs ?? 2_000;
    if (!Number.isInteger(this.limit) || this.limit < 1) throw new RangeError(`limit must be ≥ 1, got ${this.limit}`);
  }

  private key(host: string): string {
    return stateKey(this.prefix, 'host', host.toLowerCase());
  }

  /** One attempt; resolves to the release function, or `undefined` when the host is at its limit. */
  async tryAcquire(host: string): Promise<(() => Promise<void>) | undefined> {
    const key = this.key(host);
    const token = randomUUID();
    const ok = await runScript(this.redis, ACQUIRE, [key], [this.limit, this.leaseMs, token]);
    if (ok !== 1) return undefined;
    let isReleased = false;
    return async () => {
      if (isReleased) return;
      isReleased = true;
      await tickPipelineOf(this.redis).run((p) => p.zrem(key, token));
    };
  }

  /** Tries until a slot frees up or `maxWaitMs` passes, backing off from 20 ms to 250 ms with jitter. */
  async acquire(host: string): Promise<(() => Promise<void>) | undefined> {
    const deadline = Date.now() + this.maxWaitMs;
    let pause = 20;
    for (;;) {
      const release = await this.tryAcquire(host);
      const left = deadline - Date.now();
      if (release || left <= 0) return release;
      await new Promise((r) => setTimeout(r, Math.min(left, pause / 2 + Math.random() * pause)));
      pause = Math.min(pause * 2, 250);
    }
  }

  /** Leases currently held for a host (for tests and the ops view). */
  async inUse(host: string): Promise<number> {
    return this.redis.zcount(this.key(host), Date.now(), '+inf');
  }
}

/** The limiter's key for a URL: its host name (without port; two ports are still one machine). */
export function hostKey(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
