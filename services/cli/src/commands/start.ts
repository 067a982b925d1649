import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '@regwatch/config';
import { createLogger } from '@regwatch/logger';
import { createAddressPolicy, parseAllowNets } from '@regwatch/outbound';
import { onShutdown } from '@regwatch/queue';
import type { CommandIo } from '../io.js';
import { DEFAULT_CONFIG_FILE } from '../paths.js';
import { ensureRedis } from '../redis-launcher.js';
import { runAll } from '../run-all.js';

/** `regwatch start`: the four services in one process against REGWATCH_CONFIG or the default config. */
export async function start(_args: string[], io: CommandIo): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env: io.env, defaultFile: DEFAULT_CONFIG_FILE });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`regwatch start: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // No base name: each service's child logger sets `svc`, as the separate services do.
  const log = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  const dataDir = resolve(config.env.REGWATCH_DATA_DIR);
  const outboxDir = resolve(config.env.REGWATCH_OUTBOX_DIR ?? `${dataDir}/outbox`);
  let redis: Awaited<ReturnType<typeof ensureRedis>>;
  try {
    redis = await ensureRedis({ ...(config.env.REDIS_URL ? { redisUrl: config.env.REDIS_URL } : {}), dataDir });
  } catch (err) {
    io.stderr(`regwatch start: ${(err as Error).message}\n`);
    return 1;
  }
  if (redis.child) log.info({ dataDir: `${dataDir}/redis` }, 'started redis-server for you (append-only file on)');
  const policy = createAddressPolicy(parseAllowNets(config.env.REGWATCH_ALLOW_NETS));
  let app: Awaited<ReturnType<typeof runAll>>;
  try {
    app = await runAll({ config, redisUrl: redis.url, log, policy, outboxDir });
  } catch (err) {
    io.stderr(`regwatch start: ${(err as Error).message}\n`);
    await redis.stop();
    return 1;
  }
  log.info(
    {
      api: app.apiUrl,
      config: config.filePath,
      feeds: config.file.feeds.length,
      subscriptions: config.file.subscriptions.length,
    },
    'regwatch is running (Ctrl-C to stop)',
  );
  if (!config.env.SMTP_URL) log.info({ outboxDir }, 'SMTP_URL is not set: email is written to the outbox folder');
  onShutdown(async () => {
    await app.close();
    await redis.stop();
  }, log);
  return new Promise<number>(() => {});
}
