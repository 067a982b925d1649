import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText, parseEnv } from './index.js';
import { problemsOf, SECRET } from './testing.js';

describe('config file', () => {
  it('names every bad path and why', () => {
    const text = `
feeds:
  - { id: ok, url: "https://example.com/feed" }
  - { id: "Bad Id", url: "ftp://example.com/feed", intervalSeconds: 5 }
subscriptions:
  - id: s0
    team: t
    channels: [{ type: email, to: [a@example.com] }]
  - id: s1
    team: t
    channels: [{ type: email, to: [a@example.com] }]
  - id: s2
    team: t
    channels:
      - { type: webhook, url: "javascript:alert(1)", secret: "${SECRET}" }
`;
    const problems = problemsOf(() => parseConfigText(text, 'cfg.yaml'));
    expect(problems).toContain('subscriptions[2].channels[0].url: must be an http(s) URL');
    expect(problems.some((p) => p.startsWith('feeds[1].id:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('feeds[1].url: must be an http(s) URL'))).toBe(true);
    expect(problems.some((p) => p.startsWith('feeds[1].intervalSeconds:'))).toBe(true);
    expect(problems).toHaveLength(4);
  });

  it('rejects duplicate ids, unknown top-level keys and bad secrets', () => {
    const text = JSON.stringify({
      feeds: [
        { id: 'a', url: 'https://example.com/1' },
        { id: 'a', url: 'https://example.com/2' },
      ],
      subscriptions: [
        { id: 's', team: 't', channels: [{ type: 'webhook', url: 'https://h.example/x', secret: 'hunter2' }] },
      ],
      feedz: [],
    });
    const problems = problemsOf(() => parseConfigText(text, 'cfg.json'));
    expect(problems.join('\n')).toMatch(
      /feeds\[1\]\.id: duplicate id "a" \(first used by feeds\[0\]\)|\(root\): Unrecognized key/,
    );
    expect(problems.some((p) => p.includes('subscriptions[0].channels[0].secret'))).toBe(true);
    expect(problems.some((p) => p.includes('feedz'))).toBe(true);
  });

  it('expands $-brace variables from the environment and names a missing one', () => {
    const text = `subscriptions:\n  - id: s\n    team: t\n    channels: [{ type: webhook, url: "https://h.example/x", secret: "\${HOOK_SECRET}" }]\n`;
    const ok = parseConfigText(text, 'c', { HOOK_SECRET: SECRET });
    expect(ok.subscriptions[0]?.channels[0]).toMatchObject({ secret: SECRET });
    expect(problemsOf(() => parseConfigText(text, 'c', {}))).toEqual([
      'subscriptions[0].channels[0].secret: environment variable HOOK_SECRET is not set',
    ]);
  });

  it('reports unparseable YAML with the reason', () => {
    const problems = problemsOf(() => parseConfigText('feeds: [unclosed', 'c.yaml'));
    expect(problems[0]).toMatch(/^not valid YAML or JSON: /);
  });

  it('applies defaults and freezes the result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-cfg-'));
    const path = join(dir, 'c.yaml');
    writeFileSync(path, 'feeds:\n  - { id: f, url: "https://example.com/rss" }\n');
    const cfg = loadConfig({ env: { REGWATCH_CONFIG: path } });
    expect(cfg.file.feeds[0]).toMatchObject({ intervalSeconds: 300, enabled: true });
    expect(cfg.env.REGWATCH_PREFIX).toBe('regwatch');
    expect(Object.isFrozen(cfg.file.feeds[0])).toBe(true);
  });

  it('names a missing file', () => {
    const problems = problemsOf(() => loadConfig({ env: { REGWATCH_CONFIG: '/nonexistent/regwatch.yaml' } }));
    expect(problems).toEqual(['cannot read the file: ENOENT']);
  });
});

describe('environment', () => {
  it('treats empty strings as unset and booleans strictly', () => {
    const env = parseEnv({ REGWATCH_PREFIX: '', API_PORT: '', REGWATCH_ALLOW_EVICTION: '1' });
    expect(env.REGWATCH_PREFIX).toBe('regwatch');
    expect(env.API_PORT).toBe(8080);
    expect(env.REGWATCH_ALLOW_EVICTION).toBe(true);
    const problems = problemsOf(() => parseEnv({ REGWATCH_ALLOW_EVICTION: 'yes', API_PORT: 'http' }));
    expect(problems.some((p) => p.startsWith('REGWATCH_ALLOW_EVICTION:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('API_PORT:'))).toBe(true);
  });

  it('parses the delivery retry schedule and names a bad step', () => {
    expect(parseEnv({}).REGWATCH_RETRY_SCHEDULE).toEqual([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000,
    ]);
    expect(parseEnv({ REGWATCH_RETRY_SCHEDULE: '' }).REGWATCH_RETRY_SCHEDULE).toHaveLength(6);
    expect(parseEnv({ REGWATCH_RETRY_SCHEDULE: '5s, 1.5m,2h,1d,1500ms' }).REGWATCH_RETRY_SCHEDULE).toEqual([
      5_000, 90_000, 7_200_000, 86_400_000, 1_500,
    ]);
    expect(problemsOf(() => parseEnv({ REGWATCH_RETRY_SCHEDULE: '5s,5x,2h' }))).toEqual([
      'REGWATCH_RETRY_SCHEDULE: step 2 "5x" is not a duration like 5s, 5m, 2h or 1d (a number and ms|s|m|h|d)',
    ]);
    expect(problemsOf(() => parseEnv({ REGWATCH_RETRY_SCHEDULE: '5s,,2h' }))[0]).toContain('step 2 ""');
    expect(problemsOf(() => parseEnv({ REGWATCH_RETRY_SCHEDULE: '500ms,8d' }))).toEqual([
      'REGWATCH_RETRY_SCHEDULE: step 1 "500ms" is out of range: 1s to 7d',
      'REGWATCH_RETRY_SCHEDULE: step 2 "8d" is out of range: 1s to 7d',
    ]);
    expect(problemsOf(() => parseEnv({ REGWATCH_RETRY_SCHEDULE: Array(21).fill('5s').join(',') }))).toEqual([
      'REGWATCH_RETRY_SCHEDULE: has 21 steps; at most 20',
    ]);
  });
});
