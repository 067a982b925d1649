import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './fetch-feed.js';

describe('parseRetryAfter()', () => {
  const now = Date.parse('2025-08-06T12:00:00Z');
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Wed, 06 Aug 2025 12:05:00 GMT', 300_000],
    ['Wed, 06 Aug 2025 11:00:00 GMT', 0], // in the past
    ['99999999', 24 * 3600 * 1000], // capped at a day
    ['Fri, 06 Aug 2027 12:00:00 GMT', 24 * 3600 * 1000],
  ])('%j → %d ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([undefined, '', 'soon', '-5', '1.5'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
