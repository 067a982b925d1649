import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenStore } from '@regwatch/api';
import { QUEUES } from '@regwatch/contracts';
import { notifierStores } from '@regwatch/notifier';
import { bullPrefix, createQueue, createRedis } from '@regwatch/queue';
import { AlertStore, CatalogStore } from '@regwatch/store';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../io.js';
import { alerts } from './alerts.js';
import { dlq } from './dlq.js';
import { feeds } from './feeds.js';
import { subs } from './subs.js';
import { tokens } from './tokens.js';

const prefix = `test-${randomUUID().slice(0, 8)}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');
const dir = mkdtempSync(join(tmpdir(), 'rw-cli-'));
const configFile = join(dir, 'regwatch.yaml');
writeFileSync(
  configFile,
  'feeds:\n  - { id: fr-bis, url: "https://www.federalregister.gov/bis.rss" }\nsubscriptions:\n  - { id: file-sub, team: chips, channels: [{ type: email, to: [desk@example.com] }] }\n',
);

afterAll(async () => {
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

function run(command: (args: string[], io: CommandIo) => Promise<number>, args: string[], stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readStdin: async () => stdin,
    stdinLines: async function* () {},
    env: {
      REDIS_URL: process.env.REDIS_URL ?? '',
      REGWATCH_PREFIX: prefix,
      REGWATCH_CONFIG: configFile,
      HOOK: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    },
  };
  return command(args, io).then((code) => ({ code, out: out.join(''), err: err.join('') }));
}

describe('catalog, token and dead-letter commands (real Redis)', () => {
  it('feeds add|list|rm through the catalog store, refusing config-file ids', async () => {
    expect((await run(feeds, ['add', 'api-feed', 'https://example.com/f.xml', '--interval', '60'])).code).toBe(0);
    expect((await new CatalogStore(redis, prefix).feed('api-feed'))?.intervalSeconds).toBe(60);
    const list = await run(feeds, ['list']);
    expect(list.out).toMatch(/fr-bis\s+file/);
    expect(list.out).toMatch(/api-feed\s+api\s+rss\s+60s/);
    const bad = await run(feeds, ['add', 'Bad', 'ftp://x', '--interval', '5']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('url: must be an http(s) URL');
    expect(bad.err).toMatch(/intervalSeconds:/);
    const file = await run(feeds, ['rm', 'fr-bis']);
    expect(file.code).toBe(1);
    expect(file.err).toContain('config file');
    expect((await run(feeds, ['rm', 'api-feed'])).code).toBe(0);
    expect((await run(feeds, ['rm', 'api-feed'])).err).toContain('no API-made feed "api-feed"');
    expect((await run(feeds, ['frobnicate'])).code).toBe(2);
  });

  it('subs add|list|pause|resume|test', async () => {
    const yaml =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's ${VAR} syntax, expanded by the command
      'subscriptions:\n  - id: api-sub\n    team: chips\n    channels: [{ type: webhook, url: "https://hooks.example.com/x", secret: "${HOOK}" }]\n';
    const added = await run(subs, ['add', '-'], yaml);
    expect(added.code, added.err).toBe(0);
    expect((await run(subs, ['add', '-'], yaml)).err).toContain('already exists');
    const badFile = await run(
      subs,
      ['add', '-'],
      'subscriptions:\n  - { id: x, team: t, channels: [{ type: webhook, url: "ftp://x", secret: nope }] }\n',
    );
    expect(badFile.code).toBe(2);
    expect(badFile.err).toContain('subscriptions[0].channels[0].url');
    const list = await run(subs, ['list', '--json']);
    expect(list.out).not.toContain('whsec_');
    expect(JSON.parse(list.out).map((s: { id: string }) => s.id)).toEqual(['file-sub', 'api-sub']);
    expect((await run(subs, ['pause', 'file-sub'])).code).toBe(0);
    expect(await new CatalogStore(redis, prefix).pausedOverride('file-sub')).toBe(true);
    expect((await run(subs, ['test', 'file-sub'])).err).toContain('paused');
    expect((await run(subs, ['resume', 'file-sub'])).code).toBe(0);
    const test = await run(subs, ['test', 'api-sub']);
    expect(test.code).toBe(0);
    const deliveryId = /queued test webhook delivery (\S+)/.exec(test.out)?.[1];
    const queue = createQueue(QUEUES.deliveries, { connection: redis, prefix });
    try {
      expect((await queue.getJob(deliveryId!))?.data).toMatchObject({ subscriptionId: 'api-sub', kind: 'alert' });
    } finally {
      await queue.close();
    }
    expect((await run(subs, ['pause', 'nope'])).err).toContain('no subscription "nope"');
  });

  it('alerts tail prints the newest alerts, oldest first', async () => {
    const store = new AlertStore(redis, { prefix });
    const latest = (await store.list({ limit: 1 }))[0];
    expect(latest?.feedId).toBe('regwatch-test');
    const tail = await run(alerts, ['tail', '-n', '5']);
    expect(tail.code).toBe(0);
    expect(tail.out).toContain(latest!.id);
  });

  it('tokens create|list|revoke, and dlq list|replay', async () => {
    const created = await run(tokens, ['create', 'team:chips', '--name', 'chips bot']);
    expect(created.code).toBe(0);
    const token = created.out.trim();
    const record = await new TokenStore(redis, prefix).verify(token);
    expect(record).toMatchObject({ role: 'team:chips', name: 'chips bot' });
    expect((await run(tokens, ['list'])).out).toContain(record!.id);
    expect((await run(tokens, ['create', 'root'])).err).toMatch(/must be "admin", "ops" or "team:<team>"/);
    expect((await run(tokens, ['revoke', record!.id])).code).toBe(0);
    expect(await new TokenStore(redis, prefix).verify(token)).toBeUndefined();

    const { deadLetters } = notifierStores({ connection: redis, prefix });
    await deadLetters.add({
      id: 'd-dead',
      deliveryId: 'd-dead',
      kind: 'alert',
      alertId: 'a',
      storyId: 's',
      subscriptionId: 'api-sub',
      channelKey: 'w1',
      reason: 'WEBHOOK_GONE',
      message: 'gone',
      failedAt: new Date().toISOString(),
      attempts: 1,
      job: { v: 1, deliveryId: 'd-dead', alertId: 'a', storyId: 's', subscriptionId: 'api-sub', channelKey: 'w1' },
    });
    expect((await run(dlq, ['list'])).out).toMatch(/d-dead .*api-sub .*WEBHOOK_GONE/);
    const replay = await run(dlq, ['replay', 'd-dead', 'nope']);
    expect(replay.out).toContain('replayed d-dead (dead) as job d-dead-r1');
    expect(replay.err).toContain('nothing to replay for "nope"');
    expect(replay.code).toBe(1);
    expect((await run(dlq, ['list'])).out).toBe('no dead deliveries\n');
  });

  it('says clearly when Redis cannot be reached', async () => {
    const io: CommandIo = {
      stdout: () => {},
      stderr: (t) => errors.push(t),
      readStdin: async () => '',
      stdinLines: async function* () {},
      env: { REDIS_URL: 'redis://127.0.0.1:1', REGWATCH_PREFIX: prefix },
    };
    const errors: string[] = [];
    expect(await feeds(['list'], io)).toBe(1);
    expect(errors.join('')).toMatch(/^regwatch feeds list: cannot reach Redis \(REDIS_URL\)/);
  });
});
