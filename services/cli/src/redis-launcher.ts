import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRedis, DEFAULT_REDIS_URL, waitForRedis } from '@regwatch/queue';

export interface EnsuredRedis {
  url: string;
  /** Set when we started redis-server ourselves; stopping it is our job. */
  child?: ChildProcess;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const probe = createRedis(url, 'producer', { retryStrategy: () => null, lazyConnect: true, connectTimeout: 1_000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * For `pnpm start` and `pnpm demo` on a fresh machine: use REDIS_URL when set; else the Redis
 * on 127.0.0.1:6379; else start `redis-server` with its data under the data dir (append-only
 * file on, so alerts and queued jobs survive a restart); else explain how to get Redis.
 */
export async function ensureRedis(options: {
  redisUrl?: string;
  dataDir: string;
  port?: number;
}): Promise<EnsuredRedis> {
  if (options.redisUrl) {
    if (!(await answers(options.redisUrl)))
      throw new Error(`Redis at REDIS_URL does not answer. Start it, or unset REDIS_URL to let regwatch start one.`);
    return { url: options.redisUrl, stop: async () => {} };
  }
  const port = options.port ?? 6379;
  const url = port === 6379 ? DEFAULT_REDIS_URL : `redis://127.0.0.1:${port}`;
  if (await answers(url)) return { url, stop: async () => {} };
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      'nothing answers on 127.0.0.1:6379 and redis-server is not installed. Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a Redis you have.',
    );
  }
  const dir = resolve(options.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const probe = createRedis(url, 'worker');
  probe.on('error', () => {});
  try {
    await waitForRedis(probe, 10_000);
  } finally {
    probe.disconnect();
  }
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
