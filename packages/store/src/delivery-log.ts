import { type DeliveryAttempt, DeliveryAttemptSchema } from '@regwatch/contracts';
import { runScript, stateKey, tickPipelineOf } from '@regwatch/queue';
import type { Redis } from 'ioredis';

/** Where a delivery stands, from its last recorded attempt (or its dead letter). */
export interface DeliveryStatus {
  deliveryId: string;
  /** `delivered` after a successful attempt, `retrying` after a failed one, `dead` once dead-lettered. */
  state: 'delivered' | 'retrying' | 'dead';
  /** `alert`, `update`, `digest` or `notice`. */
  kind?: string;
  subscriptionId?: string;
  channel?: 'webhook' | 'email';
  /** Attempts made so far. */
  attempts: number;
  lastAt: string;
  /** HTTP status or SMTP reply code of the last attempt. */
  code?: number;
  /** The last error (`CODE: message`), or the dead letter's reason. */
  error?: string;
  /** How many alerts (sources) of the story the successful attempt carried. */
  sources?: number;
}

/** Extra facts about an attempt that the attempt record does not carry. */
export interface AttemptMeta {
  /** The stories it was about (one, or a digest's), so the api can list deliveries by story. */
  storyIds?: readonly string[];
  kind?: string;
  /** Alerts of the story the message carried (successful attempts). */
  sources?: number;
}

/** A delivery with its status and every attempt, as the api shows it. */
export interface DeliveryRecord {
  deliveryId: string;
  status?: DeliveryStatus;
  attempts: DeliveryAttempt[];
}

// One script call per attempt: the attempt list, the status hash (a success clears the previous
// failure's code and error) and the alert/story indexes, all expiring. A script rather than MULTI:
// one command, so it joins an auto-pipelined connection's batch instead of a write of its own.
// With ARGV[7] = '1' the last key is a set whose size (SCARD) is returned, read after the writes in
// the same script: a delivery learns how many alerts its story has now without a command of its own.
// KEYS[1] attempts, KEYS[2] status, KEYS[3..] indexes (then the set to count); ARGV: attempt JSON,
// max kept, ttl, score, delivery id, ok (1/0), count (1/0), then status field/value pairs.
const RECORD = `
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
if ARGV[6] == '1' then redis.call('HDEL', KEYS[2], 'code', 'error') end
redis.call('HSET', KEYS[2], unpack(ARGV, 8))
redis.call('EXPIRE', KEYS[2], ARGV[3])
local last = #KEYS
if ARGV[7] == '1' then last = last - 1 end
for i = 3, last do
  redis.call('ZADD', KEYS[i], ARGV[4], ARGV[5])
  redis.call('EXPIRE', KEYS[i], ARGV[3])
end
if ARGV[7] == '1' then return redis.call('SCARD', KEYS[#KEYS]) end
return 1`;

// Each delivery's state in one command instead of one HGET per delivery. KEYS: status hashes.
const STATES = `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGET', KEYS[i], 'state') end
return out`;

/**
 * Every delivery attempt, per delivery, capped and expiring, readable by the api: attempts by
 * delivery id, deliveries by alert and by story, and each delivery's current status. One script
 * call per attempt, so recording costs one command.
 */
export class DeliveryLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds = 14 * 24 * 3600,
    private readonly maxAttemptsKept = 50,
  ) {}

  private key(deliveryId: string): string {
    return stateKey(this.prefix, 'delivery', deliveryId);
  }

  private statusKey(deliveryId: string): string {
    return stateKey(this.prefix, 'delivery-status', deliveryId);
  }

  private alertIndex(alertId: string): string {
    return stateKey(this.prefix, 'alert-deliveries', alertId);
  }

  private storyIndex(storyId: string): string {
    return stateKey(this.prefix, 'story-deliveries', storyId);
  }

  async record(attempt: DeliveryAttempt, meta: AttemptMeta = {}): Promise<void> {
    await this.run(attempt, meta, undefined);
  }

  /**
   * Records an attempt, then counts the members of `setKey` (e.g. the alert store's story set,
   * {@link AlertStore.storySetKey}) in the same script: the count is read after the record is
   * written, atomically, at no extra command.
   */
  async recordAndCount(attempt: DeliveryAttempt, meta: AttemptMeta, setKey: string): Promise<number> {
    return (await this.run(attempt, meta, setKey)) as number;
  }

  private run(attempt: DeliveryAttempt, meta: AttemptMeta, countKey: string | undefined): Promise<unknown> {
    const keys = [this.key(attempt.deliveryId), this.statusKey(attempt.deliveryId)];
    if (attempt.alertId !== '') keys.push(this.alertIndex(attempt.alertId));
    if (meta.storyIds) for (const storyId of meta.storyIds) if (storyId !== '') keys.push(this.storyIndex(storyId));
    if (countKey !== undefined) keys.push(countKey);
    const at = Date.parse(attempt.at);
    const args = [
      JSON.stringify(attempt),
      String(this.maxAttemptsKept),
      String(this.retentionSeconds),
      String(Number.isNaN(at) ? Date.now() : at),
      attempt.deliveryId,
      attempt.ok ? '1' : '0',
      countKey !== undefined ? '1' : '0',
      'state',
      attempt.ok ? 'delivered' : 'retrying',
      'subscriptionId',
      attempt.subscriptionId,
      'channel',
      attempt.channel,
      'attempts',
      String(attempt.attempt),
      'lastAt',
      attempt.at,
    ];
    if (meta.kind !== undefined) args.push('kind', meta.kind);
    if (attempt.code !== undefined) args.push('code', String(attempt.code));
    if (attempt.error !== undefined) args.push('error', attempt.error);
    if (attempt.ok && meta.sources !== undefined) args.push('sources', String(meta.sources));
    // By SHA in the connection's tick pipeline: the attempts recorded in one event-loop turn go in one write.
    return runScript(this.redis, RECORD, keys, args);
  }

  /** Marks a delivery dead (it went to the dead-letter store), keeping its attempts. */
  async markDead(deliveryId: string, reason: string, at: string, fields: Partial<DeliveryStatus> = {}): Promise<void> {
    const status: Record<string, string> = { state: 'dead', error: reason, lastAt: at };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && k !== 'deliveryId') status[k] = String(v);
    await this.redis
      .multi()
      .hset(this.statusKey(deliveryId), status)
      .expire(this.statusKey(deliveryId), this.retentionSeconds)
      .exec();
  }

  /** Every recorded attempt of a delivery, oldest first (the last `maxAttemptsKept`). */
  async attempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    const raws = await this.redis.lrange(this.key(deliveryId), 0, -1);
    return raws.map((r) => DeliveryAttemptSchema.parse(JSON.parse(r)));
  }

  async status(deliveryId: string): Promise<DeliveryStatus | undefined> {
    const raw = await this.redis.hgetall(this.statusKey(deliveryId));
    return parseStatus(deliveryId, raw);
  }

  /** How many alerts the delivery carried when it succeeded; undefined while it has not. */
  async deliveredSources(deliveryId: string): Promise<number | undefined> {
    const [state, sources] = await tickPipelineOf(this.redis).run<(string | null)[]>((p) =>
      p.hmget(this.statusKey(deliveryId), 'state', 'sources'),
    );
    if (state !== 'delivered' || sources === null || sources === undefined) return undefined;
    return Number(sources);
  }

  /** Each delivery's state (undefined: never attempted, or forgotten), in one round trip for them all. */
  async states(deliveryIds: readonly string[]): Promise<Array<DeliveryStatus['state'] | undefined>> {
    if (deliveryIds.length === 0) return [];
    const keys = deliveryIds.map((id) => this.statusKey(id));
    const states = (await runScript(this.redis, STATES, keys, [])) as Array<string | null>;
    return deliveryIds.map((_, i) => {
      const state = states[i];
      return state === 'delivered' || state === 'retrying' || state === 'dead' ? state : undefined;
    });
  }

  /** Delivery ids that carried an alert, oldest first. */
  async deliveriesForAlert(alertId: string): Promise<string[]> {
    return this.redis.zrange(this.alertIndex(alertId), 0, -1);
  }

  /** Delivery ids about a story (its alerts, updates and the digests that listed it), oldest first. */
  async deliveriesForStory(storyId: string): Promise<string[]> {
    return this.redis.zrange(this.storyIndex(storyId), 0, -1);
  }

  /** Status and attempts of each delivery, in one round trip. */
  async records(deliveryIds: readonly string[]): Promise<DeliveryRecord[]> {
    if (deliveryIds.length === 0) return [];
    const tx = this.redis.pipeline();
    for (const id of deliveryIds) tx.hgetall(this.statusKey(id)).lrange(this.key(id), 0, -1);
    const results = (await tx.exec()) ?? [];
    return deliveryIds.map((deliveryId, i) => {
      const status = parseStatus(deliveryId, (results[2 * i]?.[1] ?? {}) as Record<string, string>);
      const raws = (results[2 * i + 1]?.[1] ?? []) as string[];
      return {
        deliveryId,
        ...(status ? { status } : {}),
        attempts: raws.map((r) => DeliveryAttemptSchema.parse(JSON.parse(r))),
      };
    });
  }

  /** Every delivery of an alert with its attempts. */
  async listForAlert(alertId: string): Promise<DeliveryRecord[]> {
    return this.records(await this.deliveriesForAlert(alertId));
  }

  /** Every delivery about a story with its attempts. */
  async listForStory(storyId: string): Promise<DeliveryRecord[]> {
    return this.records(await this.deliveriesForStory(storyId));
  }
}

function parseStatus(deliveryId: string, raw: Record<string, string>): DeliveryStatus | undefined {
  if (!raw['state']) return undefined;
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const status: DeliveryStatus = {
    deliveryId,
    state: raw['state'] as DeliveryStatus['state'],
    attempts: num(raw['attempts']) ?? 0,
    lastAt: raw['lastAt'] ?? '',
  };
  if (raw['kind'] !== undefined) status.kind = raw['kind'];
  if (raw['subscriptionId'] !== undefined) status.subscriptionId = raw['subscriptionId'];
  if (raw['channel'] === 'webhook' || raw['channel'] === 'email') status.channel = raw['channel'];
  if (raw['code'] !== undefined) status.code = num(raw['code'])!;
  if (raw['error'] !== undefined) status.error = raw['error'];
  if (raw['sources'] !== undefined) status.sources = num(raw['sources'])!;
  return status;
}
