import { PermanentError, RateLimitedError, RetryableError } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import {
  DELIVERY_ATTEMPTS,
  DELIVERY_BACKOFF_MS,
  deliveryBackoffStrategy,
  nextDelayMs,
  retryScheduleOf,
} from './retry.js';

describe('delivery retry schedule', () => {
  it('is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h: about 17.6 h in all, over 7 attempts', () => {
    expect(DELIVERY_BACKOFF_MS).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000]);
    const total = DELIVERY_BACKOFF_MS.reduce((a, b) => a + b, 0);
    expect(total / 3_600_000).toBeCloseTo(17.58, 1);
    expect(DELIVERY_ATTEMPTS).toBe(7);
  });

  it('steps through the schedule by attempts made, with ±20 % jitter', () => {
    expect(nextDelayMs(1, () => 0.5)).toBe(5_000);
    expect(nextDelayMs(1, () => 0)).toBe(4_000);
    expect(nextDelayMs(1, () => 0.999999)).toBe(6_000);
    expect(nextDelayMs(2, () => 0.5)).toBe(300_000);
    expect(nextDelayMs(6, () => 0.5)).toBe(36_000_000);
    // Past the end it stays at the last step; nonsense counts start at the first.
    expect(nextDelayMs(40, () => 0.5)).toBe(36_000_000);
    expect(nextDelayMs(0, () => 0.5)).toBe(5_000);
    for (let i = 0; i < 200; i++) {
      const d = nextDelayMs(3);
      expect(d).toBeGreaterThanOrEqual(1_440_000);
      expect(d).toBeLessThanOrEqual(2_160_000);
    }
  });

  it('waits for Retry-After when it is longer than the schedule, within a cap', () => {
    expect(nextDelayMs(1, () => 0.5, 60_000)).toBe(60_000);
    expect(nextDelayMs(3, () => 0.5, 60_000)).toBe(1_800_000);
    expect(nextDelayMs(1, () => 0.5, 10 * 86_400_000)).toBe(36_000_000);
  });

  it('works as a BullMQ backoff strategy', () => {
    const limited = new RateLimitedError('WEBHOOK_RATE_LIMITED', 'slow down', 120_000);
    expect(deliveryBackoffStrategy(1, 'regwatch-delivery', limited)).toBe(120_000);
    expect(deliveryBackoffStrategy(1, 'regwatch-delivery', new PermanentError('WEBHOOK_GONE', 'gone'))).toBe(-1);
    const d = deliveryBackoffStrategy(2, 'regwatch-delivery', new RetryableError('WEBHOOK_SERVER_ERROR', '500'));
    expect(d).toBeGreaterThanOrEqual(240_000);
    expect(d).toBeLessThanOrEqual(360_000);
  });

  it('takes a configured schedule: its steps, attempts = steps + 1, Retry-After capped at its longest step', () => {
    const fast = retryScheduleOf([5_000, 15_000, 30_000]);
    expect(fast.attempts).toBe(4);
    expect(fast.stepsMs).toEqual([5_000, 15_000, 30_000]);
    expect(nextDelayMs(2, () => 0.5, undefined, fast.stepsMs)).toBe(15_000);
    expect(nextDelayMs(9, () => 0, undefined, fast.stepsMs)).toBe(24_000);
    expect(nextDelayMs(1, () => 0.5, 3_600_000, fast.stepsMs)).toBe(30_000);
    for (let i = 0; i < 200; i++) {
      const d = fast.backoffStrategy(2, 'custom', new RetryableError('WEBHOOK_CONNECT', 'refused'));
      expect(d).toBeGreaterThanOrEqual(12_000);
      expect(d).toBeLessThanOrEqual(18_000);
    }
    expect(fast.backoffStrategy(1, 'custom', new PermanentError('WEBHOOK_GONE', 'gone'))).toBe(-1);
    expect(fast.backoffStrategy(1, 'custom', new RateLimitedError('WEBHOOK_RATE_LIMITED', 'slow', 20_000))).toBe(
      20_000,
    );
    expect(retryScheduleOf().attempts).toBe(DELIVERY_ATTEMPTS);
    expect(() => retryScheduleOf([])).toThrow(/1 or more positive steps/);
    expect(() => retryScheduleOf([5_000, Number.NaN])).toThrow(/positive steps/);
  });
});
