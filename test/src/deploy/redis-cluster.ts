import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why a local Redis Cluster cannot be started here, or undefined when it can. */
export function clusterUnavailableReason(): string | undefined {
  for (const bin of ['redis-server', 'redis-cli']) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status !== 0) {
      return `${bin} is not installed (apt-get install redis-server): skipping the Redis Cluster test`;
    }
  }
  return undefined;
}

export interface LocalCluster {
  nodes: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Six consecutive ports whose cluster-bus ports (+10000) are free too, from 7101 up. */
async function findPorts(count: number): Promise<number[]> {
  for (let base = 7101; base < 7101 + 60 * count; base += count) {
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.flatMap((p) => [isPortFree(p), isPortFree(p + 10_000)]));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('no free block of loopback ports for a local Redis Cluster');
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`local Redis Cluster: ${what} within ${timeoutMs} ms`);
}

/**
 * A real Redis Cluster on loopback: six `redis-server` processes in cluster mode (no persistence,
 * a temporary directory each), joined by `redis-cli --cluster create` into three masters with a
 * replica each. `stop()` kills every node and removes the directories.
 */
export async function startLocalCluster(): Promise<LocalCluster> {
  const ports = await findPorts(6);
  const root = mkdtempSync(join(tmpdir(), 'rw-cluster-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const dir = join(root, String(port));
      mkdirSync(dir);
      // biome-ignore format: one flag and its value per line reads best
      const args = [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000',
        '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction',
      ];
      children.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    for (const port of ports) {
      await until(
        `node ${port} did not answer`,
        async () => (await run('redis-cli', ['-p', String(port), 'ping'])).out.includes('PONG'),
        10_000,
      );
    }
    const addresses = ports.map((p) => `127.0.0.1:${p}`);
    const created = await run('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.out}`);
    for (const port of ports) {
      await until(
        `node ${port} did not report cluster_state:ok`,
        async () => (await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).out.includes('cluster_state:ok'),
        20_000,
      );
    }
    return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
