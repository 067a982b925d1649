import { describe, expect, it } from 'vitest';
import { paced, percentile, steadyRate, summarizeLatency } from './stats.js';

describe('percentile', () => {
  it('takes the nearest rank of sorted values', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 0.5)).toBe(50);
    expect(percentile(xs, 0.99)).toBe(99);
    expect(percentile(xs, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('summarizes unsorted latencies', () => {
    expect(summarizeLatency([5, 1, 3, 2, 4])).toEqual({ count: 5, p50: 3, p95: 5, p99: 5, max: 5 });
  });
});

describe('steadyRate', () => {
  it('leaves out the ramp-up and the tail', () => {
    // 10 slow arrivals, then 80 at 1 per ms, then 10 slow: the rate is the middle part's.
    const slowStart = Array.from({ length: 10 }, (_, i) => i * 100);
    const steady = Array.from({ length: 80 }, (_, i) => 1000 + i);
    const slowEnd = Array.from({ length: 10 }, (_, i) => 2000 + i * 100);
    expect(steadyRate([...slowEnd, ...steady, ...slowStart])).toBeGreaterThan(900);
  });

  it('needs enough arrivals', () => {
    expect(steadyRate([1, 2, 3])).toBeNaN();
  });
});

describe('paced', () => {
  it('starts the calls on a fixed schedule', async () => {
    const at: number[] = [];
    const start = performance.now();
    const r = await paced(100, 0.2, async () => {
      at.push(performance.now() - start);
    });
    expect(r.started).toBe(20);
    expect(at[19]!).toBeGreaterThanOrEqual(185);
  });
});
