import { ConfigError, type ConfigFile, parseEnv, readConfigFile } from '@regwatch/config';
import { redactUrl } from '@regwatch/logger';
import { createRedis, parseClusterNodes, waitForRedis } from '@regwatch/queue';
import type { Redis } from 'ioredis';
import type { CommandIo } from '../io.js';

/** What the catalog, token and dead-letter commands share: Redis, the prefix, the config file. */
export interface StoreContext {
  redis: Redis;
  prefix: string;
  /** The config file's entries (REGWATCH_CONFIG), for precedence checks; empty without one. */
  file: ConfigFile;
}

/** Failures the commands print as one line and exit 1 with (not a stack trace). */
export class CommandError extends Error {}

/**
 * Opens a producer connection (fails fast when Redis is away), runs `fn`, closes it. Problems
 * — a bad environment, an unreachable Redis, a CommandError — are printed as `regwatch <name>: …`.
 */
export async function withStores(
  name: string,
  io: CommandIo,
  fn: (ctx: StoreContext) => Promise<number>,
): Promise<number> {
  let env: ReturnType<typeof parseEnv>;
  let file: ConfigFile = { feeds: [], subscriptions: [] };
  let clusterNodes: ReturnType<typeof parseClusterNodes> | undefined;
  try {
    env = parseEnv(io.env);
    if (env.REDIS_CLUSTER_NODES) clusterNodes = parseClusterNodes(env.REDIS_CLUSTER_NODES);
    if (env.REGWATCH_CONFIG) file = readConfigFile(env.REGWATCH_CONFIG, io.env);
  } catch (err) {
    io.stderr(`regwatch ${name}: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    return 2;
  }
  const url = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedis({ url, ...(clusterNodes ? { clusterNodes } : {}) }, 'producer', {
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    // No retries: a refused connection ends at once instead of waiting out the deadline.
    const ended = new Promise<never>((_, reject) =>
      redis.once('end', () => reject(new Error(`connection to ${redactUrl(url)} closed`))),
    );
    ended.catch(() => {}); // it also fires on the normal quit below
    await Promise.race([waitForRedis(redis, 3_000), ended]);
  } catch (err) {
    io.stderr(`regwatch ${name}: cannot reach Redis (REDIS_URL): ${(err as Error).message}\n`);
    redis.disconnect();
    return 1;
  }
  try {
    return await fn({ redis, prefix: env.REGWATCH_PREFIX, file });
  } catch (err) {
    if (err instanceof CommandError) {
      io.stderr(`regwatch ${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** `--name value` from args (and the args without it). */
export function takeOption(args: string[], name: string): [string | undefined, string[]] {
  const i = args.indexOf(name);
  if (i < 0) return [undefined, args];
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new CommandError(`${name} needs a value`);
  return [value, [...args.slice(0, i), ...args.slice(i + 2)]];
}

/** Fixed-width columns for terminal tables. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return `${rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n')}\n`;
}
