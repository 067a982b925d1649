import { type Alert, AlertSchema } from '@regwatch/contracts';
import { runScript, stateKey, tickPipelineOf } from '@regwatch/queue';
import type { Redis } from 'ioredis';

export interface AlertStoreOptions {
  prefix: string;
  /** How long an alert stays in history; also bounds the story index. Default 30 days. */
  retentionSeconds?: number;
}

// Saves a batch of alerts in one script call, per alert and in order: the alert (only if new), the
// time index (trimmed to the retention), the story set. One call instead of a MULTI of five per
// alert (seven commands each on the wire and in Redis). Every key is in KEYS and shares the
// `{prefix}` hash tag, so the batch is one slot and runs on a Redis Cluster too.
// KEYS: alert, time index, story set (three per alert); ARGV[1] ttl s, then JSON, created ms,
// alert id, cutoff ms (four per alert). Returns 1 (new) or 0 (already stored) per alert.
const SAVE_MANY = `
local out = {}
for i = 1, #KEYS / 3 do
  local k = (i - 1) * 3
  local a = (i - 1) * 4 + 1
  local isNew = redis.call('SET', KEYS[k + 1], ARGV[a + 1], 'EX', ARGV[1], 'NX')
  redis.call('ZADD', KEYS[k + 2], ARGV[a + 2], ARGV[a + 3])
  redis.call('SADD', KEYS[k + 3], ARGV[a + 3])
  redis.call('EXPIRE', KEYS[k + 3], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[k + 2], '-inf', ARGV[a + 4])
  if isNew then out[i] = 1 else out[i] = 0 end
end
return out`;

// Stories' alerts in one command instead of SMEMBERS, then MGET a round trip later: one reply list
// per story set in KEYS, in KEYS order, a missing (expired) alert a nil. The alert keys are built
// here from ARGV[1] (the alert key prefix): they share the story sets' `{prefix}` hash tag, so all
// of them are in one slot on a Redis Cluster too.
// KEYS story sets; ARGV[1] alert key prefix.
const STORIES = `
local out = {}
for k = 1, #KEYS do
  local ids = redis.call('SMEMBERS', KEYS[k])
  local raws = {}
  for i = 1, #ids do raws[i] = redis.call('GET', ARGV[1] .. ids[i]) end
  out[k] = raws
end
return out`;

/** A story's alerts in the order `story()` promises: oldest first, ties by id. Expired ones (nil) dropped. */
function parseStory(raws: Array<string | null>): Alert[] {
  if (raws.length === 0) return [];
  return raws
    .filter((r): r is string => r !== null)
    .map((r) => AlertSchema.parse(JSON.parse(r)))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

// Any UTF-16 unit past ASCII (surrogate halves included).
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * A 4 KB alert JSON as the bytes Redis gets. As a string, ioredis measures its UTF-8 length, joins
 * it with the command's other arguments and the socket encodes the whole again (two-byte when one
 * alert has a ’): the classifier's largest write cost. Most alerts are ASCII, whose UTF-8 is their
 * latin1 encoding, a plain copy.
 */
function utf8Of(json: string): Buffer {
  return NON_ASCII.test(json) ? Buffer.from(json, 'utf8') : Buffer.from(json, 'latin1');
}

/**
 * Alert history: one JSON value per alert, a time index for listing, and a per-story set so
 * every source of a story can be gathered into one notification. Everything expires.
 */
export class AlertStore {
  readonly retentionSeconds: number;
  /** `{prefix}:alert:`, what every alert's key starts with. */
  private readonly alertKeyPrefix: string;
  constructor(
    private readonly redis: Redis,
    private readonly options: AlertStoreOptions,
  ) {
    this.retentionSeconds = options.retentionSeconds ?? 30 * 24 * 3600;
    this.alertKeyPrefix = stateKey(options.prefix, 'alert', '');
  }

  private key(...parts: string[]): string {
    return stateKey(this.options.prefix, ...parts);
  }

  /** Saves an alert and links it to its story; returns false when it was already stored. */
  async save(alert: Alert): Promise<boolean> {
    const [isNew] = await this.saveMany([alert]);
    return isNew!;
  }

  /**
   * {@link save} for a batch: one script call however many alerts (a job's items were one EVALSHA
   * each, the classifier's most frequent command). Per alert, in order, true when it was new. By
   * SHA in the connection's tick pipeline: the saves of one event-loop turn go in one write; a
   * restarted Redis gets the script again by EVAL.
   */
  async saveMany(alerts: readonly Alert[]): Promise<boolean[]> {
    if (alerts.length === 0) return [];
    const ttl = this.retentionSeconds;
    const index = this.key('alerts');
    const keys: string[] = [];
    const args: Array<string | Buffer> = [String(ttl)];
    for (const alert of alerts) {
      const created = Date.parse(alert.createdAt);
      keys.push(this.key('alert', alert.id), index, this.storySetKey(alert.storyId));
      args.push(utf8Of(JSON.stringify(alert)), String(created), alert.id, String(created - ttl * 1000));
    }
    const replies = (await runScript(this.redis, SAVE_MANY, keys, args)) as number[];
    return alerts.map((_, i) => replies[i] === 1);
  }

  async get(id: string): Promise<Alert | undefined> {
    const raw = await this.redis.get(this.key('alert', id));
    return raw ? AlertSchema.parse(JSON.parse(raw)) : undefined;
  }

  /** Every stored alert of a story, oldest first. */
  async story(storyId: string): Promise<Alert[]> {
    const [raws] = await this.storyLists([storyId]);
    return parseStory(raws ?? []);
  }

  /**
   * Every stored alert of each story, in one script call whatever their number; each list sorted
   * as `story()` sorts it, and a story with no alerts maps to []. Repeated ids are read once.
   */
  async stories(storyIds: readonly string[]): Promise<Map<string, Alert[]>> {
    const ids = [...new Set(storyIds)];
    const byStory = new Map<string, Alert[]>();
    if (ids.length === 0) return byStory;
    const lists = await this.storyLists(ids);
    ids.forEach((id, i) => {
      byStory.set(id, parseStory(lists[i] ?? []));
    });
    return byStory;
  }

  /** The stored alert JSON of each story (nil: expired), in one script call. */
  private async storyLists(storyIds: readonly string[]): Promise<Array<Array<string | null>>> {
    const keys = storyIds.map((id) => this.storySetKey(id));
    return (await runScript(this.redis, STORIES, keys, [this.alertKeyPrefix])) as Array<Array<string | null>>;
  }

  /** How many alerts a story has (one per source), without loading them. */
  async storySize(storyId: string): Promise<number> {
    return tickPipelineOf(this.redis).run<number>((p) => p.scard(this.storySetKey(storyId)));
  }

  /** The Redis set of a story's alert ids (its size is the story's size), for scripts that count it. */
  storySetKey(storyId: string): string {
    return this.key('story', storyId);
  }

  /** Newest first; `before` is an epoch-ms cursor. */
  async list(options: { limit?: number; before?: number } = {}): Promise<Alert[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const max = options.before !== undefined ? `(${options.before}` : '+inf';
    const ids = await this.redis.zrevrangebyscore(this.key('alerts'), max, '-inf', 'LIMIT', 0, limit);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.key('alert', id)));
    return raws.filter((r): r is string => r !== null).map((r) => AlertSchema.parse(JSON.parse(r)));
  }
}
