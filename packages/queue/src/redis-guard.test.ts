import { describe, expect, it } from 'vitest';
import { judgeRedisSettings } from './redis-guard.js';

describe('judgeRedisSettings', () => {
  it('refuses an evicting Redis unless overridden', () => {
    expect(judgeRedisSettings({ maxmemoryPolicy: 'allkeys-lru', aofEnabled: true }, false).refuse).toMatch(
      /maxmemory-policy is "allkeys-lru".*REGWATCH_ALLOW_EVICTION/,
    );
    const allowed = judgeRedisSettings({ maxmemoryPolicy: 'volatile-lru', aofEnabled: true }, true);
    expect(allowed.refuse).toBeUndefined();
    expect(allowed.warnings[0]).toMatch(/starting anyway/);
  });

  it('accepts noeviction with an append-only file silently', () => {
    expect(
      judgeRedisSettings({ maxmemoryPolicy: 'noeviction', aofEnabled: true, rdbSaveConfigured: false }, false),
    ).toEqual({
      warnings: [],
    });
  });

  it('warns when Redis keeps nothing on disk, or only snapshots', () => {
    expect(
      judgeRedisSettings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, rdbSaveConfigured: false }, false)
        .warnings[0],
    ).toMatch(/keeps nothing on disk/);
    expect(
      judgeRedisSettings({ maxmemoryPolicy: 'noeviction', aofEnabled: false, rdbSaveConfigured: true }, false)
        .warnings[0],
    ).toMatch(/no append-only file/);
  });
});
