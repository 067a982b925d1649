import { randomUUID } from 'node:crypto';
import type { Alert } from '@regwatch/contracts';
import { bullPrefix, createRedis, stateKey, tickPipelineOf } from '@regwatch/queue';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AlertStore } from './alert-store.js';

const prefix = `test-${randomUUID().slice(0, 8)}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');

afterAll(async () => {
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

function alertOf(id: string, storyId: string, createdAt: string): Alert {
  const title = `Export controls story ${id}`;
  const url = `https://news.example.test/${id}`;
  return {
    id,
    storyId,
    itemId: `item-${id}`,
    feedId: 'wire',
    title,
    url,
    summary: 'New licence requirements for advanced chips.',
    published: createdAt,
    score: 3,
    severity: 'high',
    topics: [],
    jurisdictions: [],
    entities: [],
    evidence: [],
    rulesVersion: 'test',
    sources: [{ feedId: 'wire', itemId: `item-${id}`, url, title, published: createdAt }],
    createdAt,
  };
}

describe('AlertStore (real Redis)', () => {
  it('saves once per id, links sources to their story, lists newest first, and expires everything', async () => {
    const store = new AlertStore(redis, { prefix, retentionSeconds: 3600 });
    const now = Date.now();
    const a = alertOf('a1', 's1', new Date(now - 2000).toISOString());
    const b = alertOf('a2', 's1', new Date(now - 1000).toISOString());
    expect(await store.save(a)).toBe(true);
    expect(await store.save(a)).toBe(false);
    expect(await store.save(b)).toBe(true);
    expect((await store.story('s1')).map((x) => x.id)).toEqual(['a1', 'a2']);
    expect(await store.storySize('s1')).toBe(2);
    expect((await store.list()).map((x) => x.id)).toEqual(['a2', 'a1']);
    expect((await store.get('a1'))?.title).toBe(a.title);
    for (const key of [stateKey(prefix, 'alert', 'a1'), stateKey(prefix, 'story', 's1')]) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(3500);
      expect(ttl).toBeLessThanOrEqual(3600);
    }
  });

  it('drops alerts older than the retention from the time index on the next save', async () => {
    const store = new AlertStore(redis, { prefix, retentionSeconds: 60 });
    const old = alertOf('old', 's-old', new Date(Date.now() - 120_000).toISOString());
    await store.save(old);
    await store.save(alertOf('new', 's-new', new Date().toISOString()));
    const ids = await redis.zrange(stateKey(prefix, 'alerts'), 0, -1);
    expect(ids).toContain('new');
    expect(ids).not.toContain('old');
  });

  it("reads a story in one command, leaving out alerts that expired before the story's set did", async () => {
    const store = new AlertStore(redis, { prefix, retentionSeconds: 3600 });
    const now = Date.now();
    await store.save(alertOf('g1', 's-gap', new Date(now - 3000).toISOString()));
    await store.save(alertOf('g2', 's-gap', new Date(now - 2000).toISOString()));
    await store.save(alertOf('g3', 's-gap', new Date(now - 1000).toISOString()));
    await redis.del(stateKey(prefix, 'alert', 'g2'));
    const stories = await Promise.all([store.story('s-gap'), store.story('s-none')]);
    expect(stories[0].map((a) => a.id)).toEqual(['g1', 'g3']);
    expect(stories[0][0]).toEqual(alertOf('g1', 's-gap', new Date(now - 3000).toISOString()));
    expect(stories[1]).toEqual([]);
  });
});

describe('AlertStore.stories (real Redis)', () => {
  it('reads several stories in one script call, each sorted as story() sorts it, repeated ids once', async () => {
    const store = new AlertStore(redis, { prefix, retentionSeconds: 3600 });
    const now = Date.now();
    const at = (ms: number) => new Date(now - ms).toISOString();
    // Saved out of order, with a createdAt tie broken by id, and one alert expired early.
    await store.save(alertOf('m3', 's-many-a', at(1000)));
    await store.save(alertOf('m1', 's-many-a', at(3000)));
    await store.save(alertOf('m2b', 's-many-a', at(2000)));
    await store.save(alertOf('m2a', 's-many-a', at(2000)));
    await store.save(alertOf('n1', 's-many-b', at(500)));
    await store.save(alertOf('n2', 's-many-b', at(400)));
    await redis.del(stateKey(prefix, 'alert', 'n2'));

    // Every command of a store goes through its connection's tick pipeline: one run is one command
    // (a NOSCRIPT retry would be an EVAL of that same one).
    const commands = vi.spyOn(tickPipelineOf(redis), 'run');
    const stories = await store.stories(['s-many-a', 's-many-none', 's-many-b', 's-many-a']);
    expect(commands).toHaveBeenCalledTimes(1);
    commands.mockRestore();

    expect([...stories.keys()]).toEqual(['s-many-a', 's-many-none', 's-many-b']);
    expect(stories.get('s-many-a')?.map((a) => a.id)).toEqual(['m1', 'm2a', 'm2b', 'm3']);
    expect(stories.get('s-many-a')).toEqual(await store.story('s-many-a'));
    expect(stories.get('s-many-a')?.[0]).toEqual(alertOf('m1', 's-many-a', at(3000)));
    expect(stories.get('s-many-b')?.map((a) => a.id)).toEqual(['n1']);
    expect(stories.get('s-many-none')).toEqual([]);
    expect((await store.stories([])).size).toBe(0);
  });
});

describe('AlertStore.saveMany (real Redis)', () => {
  it('saves a batch in one script call, as saving each in turn would: new or already stored per alert', async () => {
    const store = new AlertStore(redis, { prefix, retentionSeconds: 3600 });
    const now = Date.now();
    const earlier = alertOf('b0', 's-batch', new Date(now - 4000).toISOString());
    await store.save(earlier);
    const a = alertOf('b1', 's-batch', new Date(now - 3000).toISOString());
    const b = alertOf('b2', 's-batch-2', new Date(now - 2000).toISOString());
    const commands = vi.spyOn(tickPipelineOf(redis), 'run');
    // The same alert twice in one batch: the second is already stored, as it would be saved after the first.
    expect(await store.saveMany([a, earlier, b, a])).toEqual([true, false, true, false]);
    expect(commands).toHaveBeenCalledTimes(1);
    commands.mockRestore();
    expect(await store.saveMany([])).toEqual([]);

    expect((await store.story('s-batch')).map((x) => x.id)).toEqual(['b0', 'b1']);
    expect(await store.story('s-batch-2')).toEqual([b]);
    expect(await store.get('b1')).toEqual(a);
    const listed = (await store.list()).map((x) => x.id);
    expect(listed.indexOf('b2')).toBeLessThan(listed.indexOf('b1'));
    for (const key of [stateKey(prefix, 'alert', 'b2'), stateKey(prefix, 'story', 's-batch-2')]) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(3500);
      expect(ttl).toBeLessThanOrEqual(3600);
    }
  });

  it('stores each alert as its JSON in UTF-8, ASCII or not', async () => {
    const store = new AlertStore(redis, { prefix, retentionSeconds: 3600 });
    const at = new Date().toISOString();
    const plain = alertOf('u1', 's-utf8', at);
    const curly = { ...alertOf('u2', 's-utf8', at), title: 'Japan’s trade ministry: Ürün 出口管制 🚢' };
    const latin1 = { ...alertOf('u3', 's-utf8', at), summary: 'Zölle für Stahl – café' };
    expect(await store.saveMany([plain, curly, latin1])).toEqual([true, true, true]);
    for (const alert of [plain, curly, latin1]) {
      expect(await redis.get(stateKey(prefix, 'alert', alert.id))).toBe(JSON.stringify(alert));
      expect(await store.get(alert.id)).toEqual(alert);
    }
  });

  it('trims the time index after each alert of the batch, as a save would', async () => {
    const store = new AlertStore(redis, { prefix, retentionSeconds: 60 });
    const old = alertOf('bold', 's-bold', new Date(Date.now() - 120_000).toISOString());
    const fresh = alertOf('bnew', 's-bnew', new Date().toISOString());
    await store.saveMany([old, fresh]);
    let ids = await redis.zrange(stateKey(prefix, 'alerts'), 0, -1);
    expect(ids).toContain('bnew');
    expect(ids).not.toContain('bold');
    // Newest first, then an old one: its own (earlier) cutoff keeps it until the next save, as save() does.
    const fresh2 = alertOf('bnew2', 's-bnew', new Date().toISOString());
    const old2 = alertOf('bold2', 's-bold', new Date(Date.now() - 120_000).toISOString());
    await store.saveMany([fresh2, old2]);
    ids = await redis.zrange(stateKey(prefix, 'alerts'), 0, -1);
    expect(ids).toContain('bold2');
  });
});
