import { createHash, randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createRedis } from './connection.js';
import { runScript, TickPipeline, tickPipelineOf } from './tick-pipeline.js';

const prefix = `test-${randomUUID()}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');
const key = (...parts: string[]) => `${prefix}:${parts.join(':')}`;

afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

/** A script no other test (or earlier run) has loaded: its SHA starts unknown to Redis. */
function freshScript(): string {
  return `-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`;
}

function sha1(script: string): string {
  return createHash('sha1').update(script).digest('hex');
}

async function isScriptLoaded(script: string): Promise<boolean> {
  const [exists] = (await redis.script('EXISTS', sha1(script))) as number[];
  return exists === 1;
}

describe('TickPipeline (real Redis)', () => {
  it('sends the commands of one event-loop turn as one pipeline, and a later turn as another', async () => {
    const conn = redis.duplicate();
    try {
      const tick = new TickPipeline(conn);
      const pipelines = vi.spyOn(conn, 'pipeline');
      const replies = await Promise.all(
        Array.from({ length: 5 }, (_, i) => tick.run((p) => p.set(key('turn', String(i)), String(i)))),
      );
      expect(replies).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
      expect(pipelines).toHaveBeenCalledTimes(1);
      // Redis saw all five, not just the pipeline object.
      expect(await redis.mget([0, 1, 2, 3, 4].map((i) => key('turn', String(i))))).toEqual(['0', '1', '2', '3', '4']);

      await tick.run((p) => p.get(key('turn', '0')));
      expect(pipelines).toHaveBeenCalledTimes(2);
    } finally {
      await conn.quit();
    }
  });

  it('gives each caller its own reply', async () => {
    await redis.mset(key('r', 'a'), 'alpha', key('r', 'b'), 'beta');
    await redis.rpush(key('r', 'list'), 'x', 'y', 'z');
    const tick = tickPipelineOf(redis);
    const [a, list, missing, b, size] = await Promise.all([
      tick.run<string | null>((p) => p.get(key('r', 'a'))),
      tick.run<string[]>((p) => p.lrange(key('r', 'list'), 0, -1)),
      tick.run<string | null>((p) => p.get(key('r', 'nope'))),
      tick.run<string | null>((p) => p.get(key('r', 'b'))),
      tick.run<number>((p) => p.llen(key('r', 'list'))),
    ]);
    expect({ a, list, missing, b, size }).toEqual({
      a: 'alpha',
      list: ['x', 'y', 'z'],
      missing: null,
      b: 'beta',
      size: 3,
    });
  });

  it('keeps issue order: a SET then a GET in the same turn sees the value, INCRs count up in order', async () => {
    const tick = tickPipelineOf(redis);
    const [set, got, one, two, three] = await Promise.all([
      tick.run((p) => p.set(key('o', 'k'), 'v1')),
      tick.run<string | null>((p) => p.get(key('o', 'k'))),
      tick.run<number>((p) => p.incr(key('o', 'n'))),
      tick.run<number>((p) => p.incr(key('o', 'n'))),
      tick.run<number>((p) => p.incr(key('o', 'n'))),
    ]);
    expect([set, got, one, two, three]).toEqual(['OK', 'v1', 1, 2, 3]);
  });

  it('rejects only the caller whose command failed (WRONGTYPE); the others get their replies', async () => {
    await redis.set(key('w', 'str'), 'not a list');
    const tick = tickPipelineOf(redis);
    const results = await Promise.allSettled([
      tick.run((p) => p.set(key('w', 'before'), 'b')),
      tick.run((p) => p.lpush(key('w', 'str'), 'x')),
      tick.run<string | null>((p) => p.get(key('w', 'before'))),
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'OK' });
    expect(results[1]!.status).toBe('rejected');
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(results[2]).toEqual({ status: 'fulfilled', value: 'b' });
    expect(await redis.get(key('w', 'str'))).toBe('not a list');
  });

  it('is one per connection: stores sharing a connection share its pipeline', () => {
    const other = redis.duplicate({ lazyConnect: true });
    expect(tickPipelineOf(redis)).toBe(tickPipelineOf(redis));
    expect(tickPipelineOf(other)).not.toBe(tickPipelineOf(redis));
    other.disconnect();
  });

  it('rejects every caller of the turn when the connection is gone', async () => {
    for (const role of ['worker', 'producer'] as const) {
      const conn = createRedis(process.env.REDIS_URL, role);
      if (conn.status !== 'ready') await new Promise((resolve) => conn.once('ready', resolve));
      conn.disconnect(); // no reconnect: status "end"
      const tick = new TickPipeline(conn);
      const results = await Promise.allSettled([
        tick.run((p) => p.get(key('gone', 'a'))),
        tick.run((p) => p.set(key('gone', 'b'), '1')),
        tick.run((p) => p.incr(key('gone', 'c'))),
      ]);
      expect(
        results.map((r) => r.status),
        role,
      ).toEqual(['rejected', 'rejected', 'rejected']);
    }
    expect(await redis.exists(key('gone', 'b'), key('gone', 'c'))).toBe(0);
  });
});

describe('runScript (real Redis)', () => {
  it('runs a script by SHA, loading it with EVAL once, and again after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const script = freshScript();
    const evals = vi.spyOn(redis, 'eval');
    expect(await isScriptLoaded(script)).toBe(false);

    // Unknown to Redis: EVALSHA answers NOSCRIPT, EVAL runs and loads it.
    expect(await runScript(redis, script, [key('s', 'n')], [5])).toBe(5);
    expect(evals).toHaveBeenCalledTimes(1);
    expect(await isScriptLoaded(script)).toBe(true);

    // Loaded: by SHA only, and in the tick pipeline with the turn's other commands.
    const [a, b] = await Promise.all([
      runScript(redis, script, [key('s', 'n')], [1]),
      runScript(redis, script, [key('s', 'n')], [1]),
    ]);
    expect([a, b]).toEqual([6, 7]);
    expect(evals).toHaveBeenCalledTimes(1);

    // A restarted or flushed Redis forgot it.
    await redis.script('FLUSH');
    expect(await isScriptLoaded(script)).toBe(false);
    expect(await runScript(redis, script, [key('s', 'n')], [10])).toBe(17);
    expect(evals).toHaveBeenCalledTimes(2);
    expect(await isScriptLoaded(script)).toBe(true);
    expect(await redis.get(key('s', 'n'))).toBe('17');
  });

  it('passes a script error to its caller, not NOSCRIPT handling', async () => {
    const script = `-- ${randomUUID()}\nreturn redis.call('INCR', KEYS[1])`;
    await redis.set(key('s', 'text'), 'not a number');
    await runScript(redis, script, [key('s', 'ok')], []); // load it
    const evals = vi.spyOn(redis, 'eval');
    await expect(runScript(redis, script, [key('s', 'text')], [])).rejects.toThrow(/not an integer/);
    expect(evals).not.toHaveBeenCalled();
  });
});
