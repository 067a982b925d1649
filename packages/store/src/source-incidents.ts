import { OpsEventJobSchema, SourceIncidentSchema } from '@regwatch/contracts';
import { stateKey, tickPipelineOf } from '@regwatch/queue';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** What the poller learnt about how often a source brings something new. */
export const SourceCadenceSchema = z.object({
  /** Gaps between arrivals it was learnt from. */
  gaps: z.number().int().min(0),
  p50Ms: z.number().min(0),
  p90Ms: z.number().min(0),
  /** Quiet for longer than this is an incident (`silent`). */
  silentAfterMs: z.number().min(0),
});
export type SourceCadence = z.infer<typeof SourceCadenceSchema>;

/**
 * A source's alarm state, one JSON value per feed, rewritten after every poll. The streaks are
 * the hysteresis: an incident opens after several bad polls in a row and resolves after several
 * good ones, so a source that flaps does not send a notice per poll.
 */
export const SourceHealthSchema = z.object({
  v: z.literal(1),
  open: z.object({
    silent: SourceIncidentSchema.optional(),
    empty: SourceIncidentSchema.optional(),
    failing: SourceIncidentSchema.optional(),
  }),
  /** Polls failed in a row. */
  failStreak: z.number().int().min(0),
  /** Polls succeeded (200 or 304) in a row. */
  okStreak: z.number().int().min(0),
  /** Successful polls in a row whose document held no item (a 304 repeats the last count). */
  emptyStreak: z.number().int().min(0),
  /** Successful polls in a row whose document held items. */
  yieldStreak: z.number().int().min(0),
  /** Whether any poll ever found an item: only such a source can turn `empty`. */
  hasYielded: z.boolean(),
  /** Items in the last document parsed (what a 304 stands for). */
  lastItems: z.number().int().min(0).optional(),
  /** When the poller last found a new item. */
  lastArrivalAt: z.string().optional(),
  lastError: z.string().max(500).optional(),
  lastCheckedAt: z.string().optional(),
  /** Absent until enough arrivals were seen to learn one. */
  cadence: SourceCadenceSchema.optional(),
  /**
   * Transitions decided but not yet confirmed queued for the ops channel. Saved with the state
   * and cleared once queued, so a crash in between re-queues them (same job id) on the next poll
   * instead of losing or duplicating the notice.
   */
  pending: z.array(OpsEventJobSchema).max(20).default([]),
});
export type SourceHealth = z.infer<typeof SourceHealthSchema>;

/** The state of a source never evaluated. */
export function initialSourceHealth(): SourceHealth {
  return {
    v: 1,
    open: {},
    failStreak: 0,
    okStreak: 0,
    emptyStreak: 0,
    yieldStreak: 0,
    hasYielded: false,
    pending: [],
  };
}

export interface SourceIncidentStoreOptions {
  /** Arrival times kept per feed (newest first). Default 50. */
  maxArrivals?: number;
  /**
   * Both keys of a feed expire this long after its last poll, so a removed feed's state goes
   * away by itself. Default 180 days: longer than any silence worth learning from.
   */
  ttlSeconds?: number;
}

/**
 * Per-feed alarm state and the capped history of arrival times (when the poller found new
 * items) the cadence is learnt from. Two keys per feed, both with a TTL refreshed at every
 * poll: `<prefix>:srchealth:<feedId>` (JSON) and `<prefix>:arrivals:<feedId>` (a list of
 * epoch ms, newest first, trimmed to `maxArrivals`).
 */
export class SourceIncidentStore {
  readonly maxArrivals: number;
  readonly ttlSeconds: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    options: SourceIncidentStoreOptions = {},
  ) {
    this.maxArrivals = options.maxArrivals ?? 50;
    this.ttlSeconds = options.ttlSeconds ?? 180 * 24 * 3600;
  }

  private stateKey(feedId: string): string {
    return stateKey(this.prefix, 'srchealth', feedId);
  }

  private arrivalsKey(feedId: string): string {
    return stateKey(this.prefix, 'arrivals', feedId);
  }

  /** The state (or a fresh one when none, expired or unreadable) and arrival times, newest first, in one round trip. */
  async load(feedId: string): Promise<{ health: SourceHealth; arrivals: number[] }> {
    // The connection's tick pipeline, not a MULTI: the poller holding the feed lock is the only writer.
    const tick = tickPipelineOf(this.redis);
    const [raw, list] = await Promise.all([
      tick.run<string | null>((p) => p.get(this.stateKey(feedId))),
      tick.run<string[]>((p) => p.lrange(this.arrivalsKey(feedId), 0, this.maxArrivals - 1)),
    ]);
    return {
      health: parseHealth(typeof raw === 'string' ? raw : null),
      arrivals: list.map(Number).filter(Number.isFinite),
    };
  }

  /** The state alone (the api's view). */
  async get(feedId: string): Promise<SourceHealth> {
    return parseHealth(await this.redis.get(this.stateKey(feedId)));
  }

  /** Writes the state and, when the poll found new items, records the arrival; refreshes both TTLs. */
  async save(feedId: string, health: SourceHealth, arrivalAtMs?: number): Promise<void> {
    const tick = tickPipelineOf(this.redis);
    const arrivals = this.arrivalsKey(feedId);
    await Promise.all([
      tick.run((p) => p.set(this.stateKey(feedId), JSON.stringify(health), 'EX', this.ttlSeconds)),
      arrivalAtMs !== undefined ? tick.run((p) => p.lpush(arrivals, String(arrivalAtMs))) : undefined,
      arrivalAtMs !== undefined ? tick.run((p) => p.ltrim(arrivals, 0, this.maxArrivals - 1)) : undefined,
      tick.run((p) => p.expire(arrivals, this.ttlSeconds)),
    ]);
  }

  async remove(feedId: string): Promise<void> {
    await this.redis.del(this.stateKey(feedId), this.arrivalsKey(feedId));
  }
}

function parseHealth(raw: string | null): SourceHealth {
  if (raw === null) return initialSourceHealth();
  try {
    const parsed = SourceHealthSchema.safeParse(JSON.parse(raw));
    // A value written by another version: start afresh rather than fail every poll.
    return parsed.success ? parsed.data : initialSourceHealth();
  } catch {
    return initialSourceHealth();
  }
}
