import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';

type AddCommand = (pipeline: ChainableCommander) => void;

interface Pending {
  add: AddCommand;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Sends the commands issued during one turn of the event loop as one pipeline: one socket write and
 * one read for what would otherwise be a write and a read each. On these machines a loopback write
 * costs more CPU than Redis spends on the command, and a busy worker issues dozens of small
 * commands per turn (16–32 concurrent jobs, each a few state reads and writes).
 *
 * Order is kept: commands go out in the order they were issued, pipelines in the order they were
 * flushed, all on one connection — so two stores sharing a connection (see {@link tickPipelineOf})
 * still see "record, then count" in that order. Each caller gets its own command's reply or error;
 * a pipeline that fails as a whole (connection lost) rejects every caller of that turn.
 *
 * Why not ioredis' `enableAutoPipelining`: it crashed a poller in the chaos suite
 * (`results[i] is not iterable` after a Redis restart, redis/ioredis#1931) and breaks EVALSHA on a
 * Redis Cluster (redis/ioredis#2109). This is the same idea in 40 lines we can reason about, used
 * only for regwatch's own state on its own connection (never BullMQ's). On a Cluster every state
 * key shares the `{prefix}` hash tag, so a turn's commands are one slot.
 */
export class TickPipeline {
  private pending: Pending[] = [];

  constructor(private readonly redis: Redis) {}

  /** Queues one command (`p => p.get(key)`) for this turn's pipeline; resolves with its reply. */
  run<T = unknown>(add: AddCommand): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ add, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    const pipeline = this.redis.pipeline();
    try {
      for (const p of batch) p.add(pipeline);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    pipeline.exec().then(
      (results) => {
        batch.forEach((p, i) => {
          const reply = results?.[i];
          if (!reply) p.reject(new Error('redis pipeline: no reply for a command (connection lost?)'));
          else if (reply[0]) p.reject(reply[0]);
          else p.resolve(reply[1]);
        });
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}

const byConnection = new WeakMap<Redis, TickPipeline>();

/** The one {@link TickPipeline} of a connection: stores that share a connection share its order. */
export function tickPipelineOf(redis: Redis): TickPipeline {
  let tick = byConnection.get(redis);
  if (!tick) {
    tick = new TickPipeline(redis);
    byConnection.set(redis, tick);
  }
  return tick;
}

/** Whether a Redis error is NOSCRIPT (a restarted or flushed server forgot a script): load it with EVAL. */
export function isNoScript(err: unknown): boolean {
  return String((err as Error)?.message ?? err).startsWith('NOSCRIPT');
}

const shas = new Map<string, string>();

/**
 * Runs a Lua script by its SHA in the connection's tick pipeline, loading it with EVAL on NOSCRIPT.
 * EVAL every time would send the whole script and make Redis hash it on every call.
 */
export async function runScript(
  redis: Redis,
  script: string,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
): Promise<unknown> {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  const digest = sha;
  try {
    return await tickPipelineOf(redis).run((p) => p.evalsha(digest, keys.length, ...keys, ...args));
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return redis.eval(script, keys.length, ...keys, ...args);
  }
}
