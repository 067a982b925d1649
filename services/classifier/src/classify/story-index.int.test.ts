import { randomUUID } from 'node:crypto';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { storyIdFor } from '@regwatch/rules';
import { afterAll, describe, expect, it } from 'vitest';
import { assignmentsOf, StoryIndex } from './story-index.js';

const prefix = `test-${randomUUID().slice(0, 8)}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');

afterAll(async () => {
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const LEAD =
  'Port officers now open every container of graphics processors arriving from Singapore, checking for accelerators covered by the new licence rule.';

describe('StoryIndex (real Redis, two replicas)', () => {
  it('gives a syndicated copy seen by another replica the first copy’s story id', async () => {
    const a = new StoryIndex(redis, { prefix });
    const b = new StoryIndex(redis, { prefix });
    const first = storyIdFor('Customs officers step up checks on GPU containers from Singapore', LEAD);
    const copy = storyIdFor(
      'Customs officers step up checks on GPU containers from Singapore',
      `${LEAD} Officials declined to comment.`,
    );
    const other = storyIdFor(
      'Ministry sets new tariff on imported steel coils',
      'The duty of 25% applies from March to hot-rolled coils.',
    );
    expect(copy).not.toBe(first); // the stateless ids differ: clustering has to do the work

    const story = await a.assign(first);
    expect(story).toBe(first);
    expect(await b.assign(copy)).toBe(first);
    expect(await b.assign(other)).toBe(other);
    // And replica A learns what B added.
    expect(await a.assign(copy)).toBe(first);
  });

  it('joins a copy to a story first seen in the same batch, and writes every assignment', async () => {
    const p = `${prefix}-b`;
    const a = new StoryIndex(redis, { prefix: p });
    const first = storyIdFor('Customs officers step up checks on GPU containers from Singapore', LEAD);
    const copy = storyIdFor(
      'Customs officers step up checks on GPU containers from Singapore',
      `${LEAD} Officials declined to comment.`,
    );
    // Asked for in one tick: the second and third wait for the first batch and run as one.
    const results = await Promise.all([a.assign(first), a.assign(copy), a.assign(first)]);
    expect(results).toEqual([first, first, first]);
    // One entry per assignment, in order (the format every release reads), written by one script call per batch.
    const entries = await redis.xrange(`${bullPrefix(p)}:stories`, '-', '+');
    expect(entries).toHaveLength(3);
    expect(entries.map(([, fields]) => assignmentsOf(fields).map((e) => e.storyId))).toEqual([[first], [first], [first]]);
    // Another replica learns the batch's assignments.
    const b = new StoryIndex(redis, { prefix: p });
    expect(await b.assign(copy)).toBe(first);
    const keys = await redis.keys(`${bullPrefix(p)}*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  it('learns assignments from entries of the release before (one h/s/t triple per entry)', async () => {
    const p = `${prefix}-old`;
    const first = storyIdFor('Customs officers step up checks on GPU containers from Singapore', LEAD);
    const copy = storyIdFor(
      'Customs officers step up checks on GPU containers from Singapore',
      `${LEAD} Officials declined to comment.`,
    );
    await redis.xadd(
      `${bullPrefix(p)}:stories`,
      'MAXLEN',
      '~',
      '20000',
      '*',
      'h',
      first,
      's',
      first,
      't',
      String(Date.now()),
    );
    const index = new StoryIndex(redis, { prefix: p });
    expect(await index.assign(copy)).toBe(first);
    const keys = await redis.keys(`${bullPrefix(p)}*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  it('rejects every assignment of a batch when Redis fails, and keeps serving afterwards', async () => {
    const broken = createRedis(process.env.REDIS_URL, 'worker');
    await broken.quit();
    const index = new StoryIndex(broken, { prefix: `${prefix}-x` });
    const id = storyIdFor('Ministry sets new tariff on imported steel coils', 'The duty applies from March.');
    const outcomes = await Promise.allSettled([index.assign(id), index.assign(id)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    await expect(index.assign(id)).rejects.toThrow();
  });

  it('keeps assignments consistent under concurrency within one replica', async () => {
    const index = new StoryIndex(redis, { prefix: `${prefix}-c` });
    const ids = Array.from({ length: 20 }, (_, i) =>
      storyIdFor(`Unrelated headline number ${i} about steel quotas`, `Lead ${i} ${'x'.repeat(i)}`),
    );
    const results = await Promise.all([...ids, ...ids].map((id) => index.assign(id)));
    expect(results.slice(20)).toEqual(results.slice(0, 20));
    const keys = await redis.keys(`${bullPrefix(`${prefix}-c`)}*`);
    if (keys.length > 0) await redis.del(...keys);
  });
});

describe('assignmentsOf', () => {
  it('reads every h/s/t triple of an entry, in order, and skips an incomplete one', () => {
    expect(
      assignmentsOf(['h', 'st-a', 's', 'st-b', 't', '5', 'h', 'st-c', 's', 'st-c', 't', '6', 'h', 'st-d']),
    ).toEqual([
      { hash: 'st-a', storyId: 'st-b', at: 5 },
      { hash: 'st-c', storyId: 'st-c', at: 6 },
    ]);
    expect(assignmentsOf(['x', '1', 'h', 'st-a', 's', 'st-a', 't', '7'])).toEqual([
      { hash: 'st-a', storyId: 'st-a', at: 7 },
    ]);
    expect(assignmentsOf([])).toEqual([]);
  });
});
