import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bullPrefix, createQueue, createRedis } from '@regwatch/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** The poller as deployed: the built main, a config file, SIGHUP to reload it, SIGTERM to stop. */
describe.skipIf(!existsSync(MAIN))('poller main (built), config reload on SIGHUP', () => {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const redis = createRedis(process.env.REDIS_URL, 'worker');
  const dir = mkdtempSync(join(tmpdir(), 'rw-poller-'));
  const configPath = join(dir, 'regwatch.yaml');
  let server: Server;
  let base = '';
  let child: ChildProcess;
  let logs = '';

  const writeConfig = (text: string) => writeFileSync(configPath, text);
  const feedLine = (id: string) => `  - { id: ${id}, url: "${base}/${id}.xml", intervalSeconds: 3600 }\n`;
  const schedulers = async () => {
    const queue = createQueue('polls', { connection: redis, prefix });
    try {
      return (await queue.getJobSchedulers(0, -1)).map((s) => s.key).sort();
    } finally {
      await queue.close();
    }
  };
  const waitForLog = async (message: string, count = 1) => {
    const deadline = Date.now() + 15_000;
    while (logs.split(`"msg":"${message}"`).length - 1 < count) {
      if (Date.now() > deadline) throw new Error(`no "${message}" log line; got:\n${logs}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/rss+xml' })
        .end('<rss version="2.0"><channel><title>x</title></channel></rss>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeConfig(`feeds:\n${feedLine('one')}`);
    child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        REGWATCH_CONFIG: configPath,
        REGWATCH_PREFIX: prefix,
        REGWATCH_ALLOW_NETS: '127.0.0.1/32',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => {
      logs += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      logs += d.toString();
    });
    await waitForLog('feed schedules synced');
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const keys = await redis.keys(`${bullPrefix(prefix)}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a changed file on SIGHUP, refuses a bad one keeping the feeds, and stops cleanly', async () => {
    expect(await schedulers()).toEqual(['feed-one']);

    writeConfig(`feeds:\n${feedLine('two')}${feedLine('three')}`);
    child.kill('SIGHUP');
    await waitForLog('config reloaded');
    await waitForLog('feed schedules synced', 2);
    expect(await schedulers()).toEqual(['feed-three', 'feed-two']);

    writeConfig(`feeds:\n  - { id: "Bad Id", url: "gopher://nowhere" }\n`);
    child.kill('SIGHUP');
    await waitForLog('config reload refused; keeping the running feeds');
    expect(logs).toMatch(/feeds\[0\]\.id/);
    expect(await schedulers()).toEqual(['feed-three', 'feed-two']);

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
  });
});
