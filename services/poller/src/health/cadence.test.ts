import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SILENCE,
  formatDuration,
  learnCadence,
  MIN_CADENCE_GAPS,
  percentile,
  silentAfterMs,
} from './cadence.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('learnCadence', () => {
  it('learns nothing from fewer than five gaps', () => {
    const five = [0, DAY, 2 * DAY, 3 * DAY, 4 * DAY];
    expect(learnCadence(five)).toBeUndefined();
    expect(learnCadence([...five, 5 * DAY])).toMatchObject({ gaps: MIN_CADENCE_GAPS, p50Ms: DAY, p90Ms: DAY });
  });

  it('takes the gaps between distinct arrival times, in any order', () => {
    const c = learnCadence([5 * DAY, 0, 2 * DAY, DAY, 4 * DAY, 3 * DAY, 3 * DAY]);
    expect(c).toEqual({ gaps: 5, p50Ms: DAY, p90Ms: DAY, silentAfterMs: 4 * DAY });
  });

  it('uses the p90 gap, so a weekday publisher is not silent over a weekend', () => {
    // Mon–Fri for four weeks: gaps of 1 day, and 3 days over each weekend.
    const arrivals: number[] = [];
    for (let week = 0; week < 4; week++) for (let d = 0; d < 5; d++) arrivals.push((week * 7 + d) * DAY);
    const c = learnCadence(arrivals)!;
    expect(c.p50Ms).toBe(DAY);
    expect(c.p90Ms).toBe(3 * DAY);
    expect(c.silentAfterMs).toBe(12 * DAY);
  });

  it('never alarms sooner than the floor', () => {
    const bursty = Array.from({ length: 20 }, (_, i) => i * 60_000);
    expect(learnCadence(bursty)!.silentAfterMs).toBe(DEFAULT_SILENCE.floorMs);
    expect(silentAfterMs(10 * HOUR, { multiplier: 2, floorMs: HOUR })).toBe(20 * HOUR);
  });
});

describe('percentile and formatDuration', () => {
  it('ranks to the nearest value', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(percentile([], 0.5)).toBe(0);
  });

  it('reads as an operator would say it', () => {
    expect(formatDuration(45 * 60_000)).toBe('45 min');
    expect(formatDuration(7 * HOUR)).toBe('7 h');
    expect(formatDuration(9 * DAY)).toBe('9 days');
  });
});
