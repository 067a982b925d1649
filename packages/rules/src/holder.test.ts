import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRulesHolder } from './holder.js';
import { DEFAULT_TAXONOMY_PATH } from './taxonomy.js';

describe('createRulesHolder', () => {
  let dir: string;
  let path: string;
  const good = readFileSync(DEFAULT_TAXONOMY_PATH, 'utf8');
  const story = { title: 'US adds Chinese chipmakers to the Entity List', summary: '' };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'regwatch-rules-'));
    path = join(dir, 'taxonomy.yaml');
    writeFileSync(path, good);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('swaps in a new version when the file is good', () => {
    const holder = createRulesHolder(path);
    const before = holder.version;
    writeFileSync(path, good.replace(/^version: .*$/m, 'version: "2099.1.1"'));
    const result = holder.reload();
    expect(result).toMatchObject({ ok: true, version: '2099.1.1', previousVersion: before });
    expect(holder.engine.classify(story).rulesVersion).toBe('2099.1.1');
  });

  it('keeps the old engine when the new file is invalid, and says why', () => {
    const holder = createRulesHolder(path);
    const engine = holder.engine;
    writeFileSync(path, good.replace('flagThreshold: 2.0', 'flagThreshold: "high"'));
    const result = holder.reload();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('RULES_INVALID');
    expect(result.error.message).toContain('settings: flagThreshold must be a number');
    expect(holder.engine).toBe(engine);
    expect(holder.engine.classify(story).flagged).toBe(true);
  });

  it('keeps the old engine when the file is not YAML or is gone', () => {
    const holder = createRulesHolder(path);
    const engine = holder.engine;
    writeFileSync(path, 'version: [');
    expect(holder.reload()).toMatchObject({ ok: false, version: engine.version });
    rmSync(path);
    const gone = holder.reload();
    expect(gone.ok).toBe(false);
    if (!gone.ok) expect(gone.error.code).toBe('RULES_READ_FAILED');
    expect(holder.engine).toBe(engine);
  });

  it('refuses to start without valid rules', () => {
    writeFileSync(path, 'version: "1"\n');
    expect(() => createRulesHolder(path)).toThrow(/invalid taxonomy/);
  });
});
