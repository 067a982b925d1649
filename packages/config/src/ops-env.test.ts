import { describe, expect, it } from 'vitest';
import { parseEnv } from './index.js';
import { problemsOf, SECRET } from './testing.js';

describe('ops channel and source alarm settings', () => {
  it('defaults: no ops channel, silent after max(4 × p90, 6 h), failing after 3, empty after 2, recover after 2', () => {
    const env = parseEnv({ REGWATCH_OPS_EMAIL: '', REGWATCH_OPS_WEBHOOK_URL: '' });
    expect(env.REGWATCH_OPS_EMAIL).toEqual([]);
    expect(env.REGWATCH_OPS_WEBHOOK_URL).toBeUndefined();
    expect(env).toMatchObject({
      REGWATCH_SOURCE_SILENT_MULTIPLIER: 4,
      REGWATCH_SOURCE_SILENT_FLOOR_HOURS: 6,
      REGWATCH_SOURCE_FAILING_AFTER: 3,
      REGWATCH_SOURCE_EMPTY_AFTER: 2,
      REGWATCH_SOURCE_RECOVER_AFTER: 2,
    });
  });

  it('parses a list of ops addresses and a signed webhook', () => {
    const env = parseEnv({
      REGWATCH_OPS_EMAIL: 'ops@example.com, oncall@example.org',
      REGWATCH_OPS_WEBHOOK_URL: 'https://hooks.example.com/regwatch',
      REGWATCH_OPS_WEBHOOK_SECRET: SECRET,
      REGWATCH_SOURCE_SILENT_MULTIPLIER: '2.5',
      REGWATCH_SOURCE_SILENT_FLOOR_HOURS: '12',
    });
    expect(env.REGWATCH_OPS_EMAIL).toEqual(['ops@example.com', 'oncall@example.org']);
    expect(env.REGWATCH_SOURCE_SILENT_MULTIPLIER).toBe(2.5);
    expect(env.REGWATCH_SOURCE_SILENT_FLOOR_HOURS).toBe(12);
  });

  it('names the bad address, URL, secret or threshold', () => {
    const problems = problemsOf(() =>
      parseEnv({
        REGWATCH_OPS_EMAIL: 'ops@example.com,not-an-address',
        REGWATCH_OPS_WEBHOOK_URL: 'ftp://hooks.example.com',
        REGWATCH_OPS_WEBHOOK_SECRET: 'hunter2',
        REGWATCH_SOURCE_SILENT_MULTIPLIER: '0',
        REGWATCH_SOURCE_FAILING_AFTER: 'three',
      }),
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'REGWATCH_OPS_EMAIL[1]',
      'REGWATCH_OPS_WEBHOOK_URL',
      'REGWATCH_OPS_WEBHOOK_SECRET',
      'REGWATCH_SOURCE_SILENT_MULTIPLIER',
      'REGWATCH_SOURCE_FAILING_AFTER',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('refuses a webhook URL without its secret, and the other way round', () => {
    const why =
      'REGWATCH_OPS_WEBHOOK_URL and REGWATCH_OPS_WEBHOOK_SECRET: set both (the ops webhook is signed) or neither';
    expect(problemsOf(() => parseEnv({ REGWATCH_OPS_WEBHOOK_URL: 'https://hooks.example.com/x' }))).toEqual([why]);
    expect(problemsOf(() => parseEnv({ REGWATCH_OPS_WEBHOOK_SECRET: SECRET }))).toEqual([why]);
  });
});

describe('webhook endpoint limits', () => {
  it('defaults to 4 requests in flight and 20 per second per endpoint, and reads both', () => {
    expect(parseEnv({})).toMatchObject({
      REGWATCH_WEBHOOK_ENDPOINT_CONCURRENCY: 4,
      REGWATCH_WEBHOOK_ENDPOINT_RATE: 20,
    });
    expect(
      parseEnv({ REGWATCH_WEBHOOK_ENDPOINT_CONCURRENCY: '16', REGWATCH_WEBHOOK_ENDPOINT_RATE: '2.5' }),
    ).toMatchObject({ REGWATCH_WEBHOOK_ENDPOINT_CONCURRENCY: 16, REGWATCH_WEBHOOK_ENDPOINT_RATE: 2.5 });
  });

  it('names a limit that is not a positive number', () => {
    const problems = problemsOf(() =>
      parseEnv({ REGWATCH_WEBHOOK_ENDPOINT_CONCURRENCY: '0.5', REGWATCH_WEBHOOK_ENDPOINT_RATE: '0' }),
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'REGWATCH_WEBHOOK_ENDPOINT_CONCURRENCY',
      'REGWATCH_WEBHOOK_ENDPOINT_RATE',
    ]);
  });
});
