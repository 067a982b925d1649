import { describe, expect, it } from 'vitest';
import { nextSlotAt, scheduleOffsetMs } from './slots.js';

describe('scheduleOffsetMs()', () => {
  it('is stable per feed and inside (0, every)', () => {
    expect(scheduleOffsetMs('fr-bis', 300_000)).toBe(scheduleOffsetMs('fr-bis', 300_000));
    for (const id of ['a', 'b', 'fr-bis', 'uk-ecju', 'x'.repeat(64)]) {
      const offset = scheduleOffsetMs(id, 30_000);
      expect(offset).toBeGreaterThan(0);
      expect(offset).toBeLessThan(30_000);
      expect(Number.isInteger(offset)).toBe(true);
    }
  });

  it('spreads feeds that share an interval over it', () => {
    const every = 300_000;
    const buckets = new Array(10).fill(0) as number[];
    for (let i = 0; i < 1000; i++) buckets[Math.floor(scheduleOffsetMs(`feed-${i}`, every) / (every / 10))]!++;
    // 1 000 feeds over 10 tenths of the interval: each tenth gets roughly 100.
    for (const count of buckets) expect(count).toBeGreaterThan(60);
  });
});

describe('nextSlotAt()', () => {
  it('returns the first k·every + offset at or after the time', () => {
    expect(nextSlotAt(1_000, 300, 50)).toBe(1_250);
    expect(nextSlotAt(1_250, 300, 50)).toBe(1_250);
    expect(nextSlotAt(1_251, 300, 50)).toBe(1_550);
    expect(nextSlotAt(10, 300, 50)).toBe(50);
  });
});
