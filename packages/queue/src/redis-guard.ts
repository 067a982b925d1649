import type { Redis } from 'ioredis';

export interface RedisSettings {
  maxmemoryPolicy?: string;
  aofEnabled?: boolean;
  rdbSaveConfigured?: boolean;
}

function infoField(info: string, field: string): string | undefined {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return m?.[1]?.trim();
}

/**
 * Reads the settings that decide whether BullMQ can lose jobs. INFO works on managed Redis
 * where CONFIG is disabled, so it is tried first; CONFIG fills what INFO lacks.
 */
export async function readRedisSettings(redis: Redis): Promise<RedisSettings> {
  const settings: RedisSettings = {};
  const memory = await redis.info('memory');
  settings.maxmemoryPolicy = infoField(memory, 'maxmemory_policy');
  const persistence = await redis.info('persistence');
  const aof = infoField(persistence, 'aof_enabled');
  if (aof !== undefined) settings.aofEnabled = aof === '1';
  try {
    const save = (await redis.config('GET', 'save')) as string[];
    settings.rdbSaveConfigured = (save[1] ?? '').trim() !== '';
    if (!settings.maxmemoryPolicy) {
      const policy = (await redis.config('GET', 'maxmemory-policy')) as string[];
      settings.maxmemoryPolicy = policy[1];
    }
  } catch {
    // CONFIG is often disabled on managed Redis; INFO was enough.
  }
  return settings;
}

export interface GuardVerdict {
  /** A reason to refuse to start, or undefined. */
  refuse?: string;
  warnings: string[];
}

/**
 * BullMQ needs `maxmemory-policy noeviction`: under any eviction policy Redis may drop job keys
 * under memory pressure and jobs vanish (BullMQ issues #1046, #2215). Without persistence a
 * Redis restart loses every queued job. The first refuses start-up unless overridden; the second
 * warns.
 */
export function judgeRedisSettings(settings: RedisSettings, allowEviction: boolean): GuardVerdict {
  const warnings: string[] = [];
  let refuse: string | undefined;
  const policy = settings.maxmemoryPolicy;
  if (policy !== undefined && policy !== 'noeviction') {
    const text = `Redis maxmemory-policy is "${policy}": Redis may evict queued jobs under memory pressure. Set "maxmemory-policy noeviction" (infra/redis/redis.conf)`;
    if (allowEviction) warnings.push(`${text}; starting anyway because REGWATCH_ALLOW_EVICTION is set`);
    else refuse = `${text}, or set REGWATCH_ALLOW_EVICTION=true to start anyway.`;
  }
  if (settings.aofEnabled === false && settings.rdbSaveConfigured === false) {
    warnings.push(
      'Redis keeps nothing on disk (no append-only file, no snapshots): a Redis restart loses every queued job and all state.',
    );
  } else if (settings.aofEnabled === false) {
    warnings.push(
      'Redis has no append-only file: a crash loses the jobs written since the last snapshot. Set "appendonly yes".',
    );
  }
  return { ...(refuse ? { refuse } : {}), warnings };
}
