import { type Config, ConfigError, loadConfig } from '@regwatch/config';
import { createLogger, type Logger, redactUrl } from '@regwatch/logger';
import { type AddressPolicy, createAddressPolicy, parseAllowNets } from '@regwatch/outbound';
import {
  closeAll,
  createRedis,
  DEFAULT_REDIS_URL,
  judgeRedisSettings,
  onShutdown,
  parseClusterNodes,
  type RedisTarget,
  readRedisSettings,
  startHeartbeat,
  waitForRedis,
} from '@regwatch/queue';
import type { Redis } from 'ioredis';
import { type HealthServer, startHealthServer } from './health.js';

export { type HealthServer, startHealthServer } from './health.js';
export { NODE_FLAGS } from './node-flags.js';

export interface Runtime {
  config: Config;
  log: Logger;
  redis: Redis;
  policy: AddressPolicy;
  redisUrl: string;
  /** What to pass to `createRedis` for more connections: the URL, or the cluster's seed nodes. */
  redisTarget: RedisTarget;
}

/**
 * Loads and validates config (exits 2 with every problem listed when it is bad), builds the
 * logger, the outbound address policy and a worker-role Redis connection, and waits for Redis.
 */
export async function bootstrap(service: string, options: { defaultConfigFile?: string } = {}): Promise<Runtime> {
  let config: Config;
  try {
    config = loadConfig(options.defaultConfigFile ? { defaultFile: options.defaultConfigFile } : {});
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`regwatch ${service}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT, name: service });
  let policy: AddressPolicy;
  try {
    policy = createAddressPolicy(parseAllowNets(config.env.REGWATCH_ALLOW_NETS));
  } catch (err) {
    process.stderr.write(`regwatch ${service}: REGWATCH_ALLOW_NETS: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const redisUrl = config.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  let redisTarget: RedisTarget = { url: redisUrl };
  try {
    const nodes = config.env.REDIS_CLUSTER_NODES;
    if (nodes) redisTarget = { url: redisUrl, clusterNodes: parseClusterNodes(nodes) };
  } catch (err) {
    process.stderr.write(`regwatch ${service}: REDIS_CLUSTER_NODES: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const redis = createRedis(redisTarget, 'worker');
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  try {
    await waitForRedis(redis, 10_000);
  } catch (err) {
    log.fatal({ redis: redactUrl(redisUrl), err: (err as Error).message }, 'cannot reach Redis');
    process.exit(1);
  }
  const verdict = judgeRedisSettings(await readRedisSettings(redis), config.env.REGWATCH_ALLOW_EVICTION);
  for (const warning of verdict.warnings) log.warn(warning);
  if (verdict.refuse) {
    log.fatal(verdict.refuse);
    process.exit(2);
  }
  const where = redisTarget.clusterNodes
    ? { redisCluster: redisTarget.clusterNodes.map((n) => `${n.host}:${n.port}`) }
    : { redis: redactUrl(redisUrl) };
  log.info({ ...where, prefix: config.env.REGWATCH_PREFIX, config: config.filePath }, 'started');
  return { config, log, redis, policy, redisUrl, redisTarget };
}

/** Installs the SIGTERM/SIGINT drain: close the service's handles, then Redis. */
export function drainOnSignal(runtime: Runtime, handles: Array<{ close(): Promise<void> }>): void {
  onShutdown(() => closeAll([...handles.map((h) => () => h.close()), () => runtime.redis.quit()]), runtime.log);
}

/**
 * A service's main, after bootstrap: heartbeat for readiness checks, the probe listener when
 * HEALTH_PORT is set (readiness turns 503 as the drain starts; the listener closes last, so
 * liveness holds while in-flight jobs finish), then drain on SIGTERM.
 */
export function runService(runtime: Runtime, service: string, handles: Array<{ close(): Promise<void> }>): void {
  const { env } = runtime.config;
  const heartbeat = startHeartbeat(runtime.redis, env.REGWATCH_PREFIX, service);
  let health: Promise<HealthServer | undefined> = Promise.resolve(undefined);
  if (env.HEALTH_PORT !== undefined) {
    health = startHealthServer({ host: env.HEALTH_HOST, port: env.HEALTH_PORT, redis: runtime.redis }).then(
      (server) => {
        runtime.log.info({ url: server.url }, 'health listener: /healthz /readyz');
        return server;
      },
      (err: unknown) => {
        runtime.log.fatal({ err: (err as Error).message, port: env.HEALTH_PORT }, 'cannot listen for health probes');
        process.exit(1);
      },
    );
  }
  drainOnSignal(runtime, [
    { close: async () => (await health)?.markDraining() },
    heartbeat,
    ...handles,
    { close: async () => (await health)?.close() },
  ]);
}
