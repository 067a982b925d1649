import { stateKey, tickPipelineOf } from '@regwatch/queue';
import type { Redis } from 'ioredis';

/** What regwatch knows about one channel of one subscription. */
export interface ChannelHealth {
  subscriptionId: string;
  channelKey: string;
  /** A disabled channel gets nothing: its deliveries go to the dead-letter store (`ENDPOINT_DISABLED`). */
  disabled: boolean;
  /** `WEBHOOK_GONE` (the endpoint answered 410), `FAILING` (no success for the configured period), or `MANUAL`. */
  disabledReason?: string;
  disabledAt?: string;
  /** The first failure since the last success; cleared by a success. */
  firstFailureAt?: string;
  lastFailureAt?: string;
  consecutiveFailures: number;
  /** `CODE: message` of the last failure. */
  lastError?: string;
}

/** Outcome of recording a failure. */
export interface FailureOutcome {
  health: ChannelHealth;
  /** True for exactly one caller: the one whose failure disabled the channel (it tells the team). */
  newlyDisabled: boolean;
}

// One script, so that the failure count, the disable decision and "who disabled it" are atomic:
// two workers failing at once cannot both send the team a notice.
// KEYS[1] health hash, KEYS[2] index of disabled channels
// ARGV: now ms, disable-after ms, gone (1/0), error, member, ttl seconds while only failing
const RECORD_FAILURE = `
local first = redis.call('HGET', KEYS[1], 'firstFailureAt')
if not first then
  first = ARGV[1]
  redis.call('HSET', KEYS[1], 'firstFailureAt', first)
end
redis.call('HINCRBY', KEYS[1], 'consecutiveFailures', 1)
redis.call('HSET', KEYS[1], 'lastFailureAt', ARGV[1], 'lastError', ARGV[4])
if redis.call('HGET', KEYS[1], 'disabled') == '1' then
  redis.call('PERSIST', KEYS[1])
  return 0
end
local reason = false
if ARGV[3] == '1' then
  reason = 'WEBHOOK_GONE'
elseif tonumber(ARGV[1]) - tonumber(first) >= tonumber(ARGV[2]) then
  reason = 'FAILING'
end
if reason then
  redis.call('HSET', KEYS[1], 'disabled', '1', 'disabledReason', reason, 'disabledAt', ARGV[1])
  redis.call('PERSIST', KEYS[1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[5])
  return 1
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 0`;

/**
 * Per-channel health in Redis: failures since the last success, and whether the channel is
 * disabled. A disabled channel stays so (no expiry) until {@link ChannelHealthStore.enable};
 * failure bookkeeping alone expires after a while without traffic.
 */
export class ChannelHealthStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** How long failure bookkeeping of a channel that is not disabled is kept without new failures. */
    private readonly failingTtlSeconds = 30 * 24 * 3600,
  ) {}

  private key(subscriptionId: string, channelKey: string): string {
    return stateKey(this.prefix, 'channel-health', subscriptionId, channelKey);
  }

  private index(): string {
    return stateKey(this.prefix, 'channels-disabled');
  }

  async get(subscriptionId: string, channelKey: string): Promise<ChannelHealth> {
    const key = this.key(subscriptionId, channelKey);
    const raw = await tickPipelineOf(this.redis).run<Record<string, string>>((p) => p.hgetall(key));
    return parseHealth(subscriptionId, channelKey, raw);
  }

  /**
   * Counts a failed attempt. `gone` (the endpoint answered 410) disables the channel at once; otherwise
   * it is disabled when the first failure since the last success is `disableAfterMs` or more ago.
   */
  async recordFailure(
    subscriptionId: string,
    channelKey: string,
    failure: { at: Date; error: string; gone: boolean; disableAfterMs: number },
  ): Promise<FailureOutcome> {
    const key = this.key(subscriptionId, channelKey);
    const result = await this.redis
      .multi()
      .eval(
        RECORD_FAILURE,
        2,
        key,
        this.index(),
        String(failure.at.getTime()),
        String(Math.max(0, Math.round(failure.disableAfterMs))),
        failure.gone ? '1' : '0',
        failure.error.slice(0, 500),
        member(subscriptionId, channelKey),
        String(this.failingTtlSeconds),
      )
      .hgetall(key)
      .exec();
    const newlyDisabled = result?.[0]?.[1] === 1;
    const raw = (result?.[1]?.[1] ?? {}) as Record<string, string>;
    return { health: parseHealth(subscriptionId, channelKey, raw), newlyDisabled };
  }

  /** Forgets the failures after a success (a disabled channel stays disabled). */
  async recordSuccess(subscriptionId: string, channelKey: string): Promise<void> {
    await this.redis.hdel(
      this.key(subscriptionId, channelKey),
      'firstFailureAt',
      'lastFailureAt',
      'consecutiveFailures',
      'lastError',
    );
  }

  /** Disables a channel by hand (ops, the api). */
  async disable(subscriptionId: string, channelKey: string, reason = 'MANUAL', at = new Date()): Promise<void> {
    const key = this.key(subscriptionId, channelKey);
    await this.redis
      .multi()
      .hset(key, { disabled: '1', disabledReason: reason, disabledAt: String(at.getTime()) })
      .persist(key)
      .zadd(this.index(), at.getTime(), member(subscriptionId, channelKey))
      .exec();
  }

  /**
   * Enables a channel again and forgets its failures: the next delivery is sent. Dead letters of the
   * time it was disabled stay where they are; replay them if the team wants them.
   * @returns whether it was disabled.
   */
  async enable(subscriptionId: string, channelKey: string): Promise<boolean> {
    const key = this.key(subscriptionId, channelKey);
    const result = await this.redis
      .multi()
      .hget(key, 'disabled')
      .del(key)
      .zrem(this.index(), member(subscriptionId, channelKey))
      .exec();
    return result?.[0]?.[1] === '1';
  }

  /** Every disabled channel, most recently disabled first. */
  async listDisabled(limit = 500): Promise<ChannelHealth[]> {
    const members = await this.redis.zrevrange(this.index(), 0, Math.max(1, limit) - 1);
    if (members.length === 0) return [];
    const pipeline = this.redis.pipeline();
    const ids = members.map((m) => {
      const slash = m.indexOf('/');
      return [m.slice(0, slash), m.slice(slash + 1)] as const;
    });
    for (const [sub, key] of ids) pipeline.hgetall(this.key(sub, key));
    const results = (await pipeline.exec()) ?? [];
    return ids
      .map(([sub, key], i) => parseHealth(sub, key, (results[i]?.[1] ?? {}) as Record<string, string>))
      .filter((h) => h.disabled);
  }
}

// Subscription ids are slugs and channel keys hex: "/" separates them unambiguously.
function member(subscriptionId: string, channelKey: string): string {
  return `${subscriptionId}/${channelKey}`;
}

function iso(ms: string | undefined): string | undefined {
  if (ms === undefined) return undefined;
  const n = Number(ms);
  return Number.isFinite(n) ? new Date(n).toISOString() : undefined;
}

function parseHealth(subscriptionId: string, channelKey: string, raw: Record<string, string>): ChannelHealth {
  const health: ChannelHealth = {
    subscriptionId,
    channelKey,
    disabled: raw['disabled'] === '1',
    consecutiveFailures: Number(raw['consecutiveFailures'] ?? 0),
  };
  if (raw['disabledReason'] !== undefined) health.disabledReason = raw['disabledReason'];
  const disabledAt = iso(raw['disabledAt']);
  if (disabledAt) health.disabledAt = disabledAt;
  const first = iso(raw['firstFailureAt']);
  if (first) health.firstFailureAt = first;
  const last = iso(raw['lastFailureAt']);
  if (last) health.lastFailureAt = last;
  if (raw['lastError'] !== undefined) health.lastError = raw['lastError'];
  return health;
}
