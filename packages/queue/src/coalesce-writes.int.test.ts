import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from './connection.js';

const prefix = `test-${randomUUID()}`;
const key = (...parts: string[]) => `${prefix}:${parts.join(':')}`;
const opened: Redis[] = [];

afterAll(async () => {
  const cleanup = createRedis(process.env.REDIS_URL, 'worker');
  const keys = await cleanup.keys(`${prefix}:*`);
  if (keys.length > 0) await cleanup.del(...keys);
  await cleanup.quit();
  await Promise.all(opened.map((r) => r.quit().catch(() => {})));
});

async function connected(redis: Redis): Promise<Redis> {
  opened.push(redis);
  await redis.ping();
  return redis;
}

/** How many times the connection's socket hands data to the system (one write or writev each). */
function countSocketWrites(redis: Redis): () => number {
  const socket = (redis as unknown as { stream: Socket }).stream as Socket & {
    _write: (...args: unknown[]) => void;
    _writev: (...args: unknown[]) => void;
  };
  let calls = 0;
  const write = socket._write;
  const writev = socket._writev;
  socket._write = function (this: Socket, ...args: unknown[]) {
    calls++;
    return write.apply(this, args);
  };
  socket._writev = function (this: Socket, ...args: unknown[]) {
    calls++;
    return writev.apply(this, args);
  };
  return () => calls;
}

/** 40 commands written in one synchronous run, reads after writes of the same keys. */
async function burst(redis: Redis, tag: string): Promise<unknown[]> {
  const replies: Array<Promise<unknown>> = [];
  for (let i = 0; i < 20; i++) {
    replies.push(redis.set(key(tag, String(i)), `v${i}`));
    replies.push(redis.get(key(tag, String(i))));
  }
  return Promise.all(replies);
}

describe('coalesced writes (real Redis)', () => {
  it('sends the commands written at one moment in one system call, replies in order', async () => {
    const redis = await connected(createRedis(process.env.REDIS_URL, 'worker'));
    const writes = countSocketWrites(redis);
    const replies = await burst(redis, 'one');
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => ['OK', `v${i}`]).flat());
    expect(writes()).toBe(1);
    // A later moment is a later write: nothing waits for more commands to come.
    expect(await redis.get(key('one', '3'))).toBe('v3');
    expect(writes()).toBe(2);
  });

  it('is inherited by connections duplicated from ours, as BullMQ makes them', async () => {
    const base = await connected(createRedis(process.env.REDIS_URL, 'worker'));
    const copy = await connected(base.duplicate());
    const writes = countSocketWrites(copy);
    await burst(copy, 'copy');
    expect(writes()).toBe(1);
  });

  it('is off when asked (the bench reference, bare BullMQ): each command is its own write', async () => {
    const redis = await connected(createRedis(process.env.REDIS_URL, 'worker', { coalesceWrites: false }));
    const writes = countSocketWrites(redis);
    const replies = await burst(redis, 'plain');
    expect(replies).toHaveLength(40);
    expect(writes()).toBeGreaterThan(1);
  });

  it('still answers after Redis drops the connection (commands resent as ioredis always does)', async () => {
    const redis = await connected(createRedis(process.env.REDIS_URL, 'worker'));
    const admin = await connected(createRedis(process.env.REDIS_URL, 'worker'));
    await redis.client('SETNAME', `coalesce-${prefix}`);
    const clients = (await admin.client('LIST')) as string;
    const id = /id=(\d+) [^\n]*name=coalesce-/.exec(clients)?.[1];
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id!);
    const replies = await burst(redis, 'after-kill');
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => ['OK', `v${i}`]).flat());
  });
});
