import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUEUES } from '@regwatch/contracts';
import { bullPrefix, createQueue, createRedis, judgeRedisSettings, readRedisSettings } from '@regwatch/queue';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, testPrefix, testRedis } from '../helpers/index.js';

const CONF = fileURLToPath(new URL('../../../infra/redis/redis.conf', import.meta.url));
const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasRedisServer) console.warn('redis-server is not installed: skipping the redis.conf check');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(!hasRedisServer)('infra/redis/redis.conf in a real redis-server', () => {
  it('loads, and regwatch accepts the Redis it gives (noeviction, AOF fsynced every second)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-redis-conf-'));
    const port = await freePort();
    // Only the data directory differs from production (/data is the container's volume).
    writeFileSync(join(dir, 'redis.conf'), readFileSync(CONF, 'utf8').replace(/^dir \/data$/m, `dir ${dir}`));
    const child: ChildProcess = spawn(
      'redis-server',
      [join(dir, 'redis.conf'), '--port', String(port), '--bind', '127.0.0.1'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    child.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const redis = createRedis(`redis://127.0.0.1:${port}`, 'worker', { retryStrategy: (n) => (n > 50 ? null : 100) });
    redis.on('error', () => {});
    try {
      expect(await redis.ping(), log).toBe('PONG');
      expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
      expect(await redis.config('GET', 'maxmemory')).toEqual(['maxmemory', String(768 * 1024 * 1024)]);
      const settings = await readRedisSettings(redis);
      expect(settings).toMatchObject({ maxmemoryPolicy: 'noeviction', aofEnabled: true, rdbSaveConfigured: true });
      expect(judgeRedisSettings(settings, false)).toEqual({ warnings: [] });
    } finally {
      redis.disconnect();
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** KEDA's redis trigger reads LLEN of a list; infra/k8s/keda.yaml names `{prefix}:<queue>:wait`. */
describe('the list KEDA scales on', () => {
  const redis = testRedis();
  const prefix = testPrefix();
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('is where BullMQ keeps waiting jobs, and only those', async () => {
    const items = createQueue(QUEUES.items, { connection: redis, prefix });
    try {
      const list = `${bullPrefix(prefix)}:${QUEUES.items}:wait`;
      await items.add('item', { v: 1 }, { jobId: 'keda-1' });
      await items.add('item', { v: 1 }, { jobId: 'keda-2' });
      await items.add('item', { v: 1 }, { jobId: 'keda-delayed', delay: 60_000 });
      expect(await redis.type(list)).toBe('list');
      expect(await redis.llen(list)).toBe(2);
      expect(await items.getWaitingCount()).toBe(2);
    } finally {
      await items.obliterate({ force: true });
      await items.close();
    }
  });
});
