import { describe, expect, it } from 'vitest';
import { type AttemptTimes, checkRetrySchedule, formatAttemptCounts } from './schedule-check.js';

const T0 = Date.parse('2026-11-29T12:00:00Z');
/** Attempts at these offsets (s) from T0, all failing but the last. */
function attempts(...offsets: number[]): AttemptTimes[] {
  return offsets.map((s, i) => ({
    attempt: i + 1,
    at: new Date(T0 + s * 1000).toISOString(),
    ok: i === offsets.length - 1,
  }));
}
const steps = [5_000, 15_000, 30_000, 45_000];

describe('checkRetrySchedule', () => {
  it('passes retries that follow the steps within jitter, and measures them', () => {
    const r = checkRetrySchedule(
      new Map([
        ['a', attempts(0, 5, 20, 50)],
        ['b', attempts(0, 4.1, 21.9, 57)],
        ['c', attempts(60)],
      ]),
      { stepsMs: steps, lateSlackMs: 2_000, recoveredAt: T0 + 49_000 },
    );
    expect(r.violations).toEqual([]);
    expect(r.deliveries).toBe(3);
    expect(r.attemptCounts).toEqual({ 1: 1, 4: 2 });
    expect(r.minRatio).toBeCloseTo(0.82, 2);
    expect(r.maxRatio).toBeCloseTo(1.187, 2);
    expect(formatAttemptCounts(r.attemptCounts)).toBe('1 attempts ×1, 4 ×2');
  });

  it('names retries that came early or too late, and a schedule past its end repeats the last step', () => {
    const r = checkRetrySchedule(
      new Map([
        ['early', attempts(0, 2)],
        ['late', attempts(0, 5, 40)],
        ['long', attempts(0, 5, 20, 50, 95, 140)],
      ]),
      { stepsMs: steps, lateSlackMs: 1_000 },
    );
    expect(r.violations).toHaveLength(2);
    expect(r.violations[0]).toMatch(/^early: retry 1 came 2\.0 s after attempt 1, before its step of 5 s/);
    expect(r.violations[1]).toMatch(/^late: retry 2 came 35\.0 s .* past its step of 15 s/);
    expect(r.maxLateMs).toBe(17_000);
  });

  it('fails a delivery that never succeeded, or failed after the endpoint came back, or succeeded while it was down', () => {
    const never = attempts(0, 5).map((a) => ({ ...a, ok: false }));
    const r = checkRetrySchedule(
      new Map([
        ['never', never],
        ['during', attempts(0, 5, 20)],
        ['after', attempts(0, 5, 20)],
      ]),
      { stepsMs: steps, lateSlackMs: 1_000, downAt: T0 - 1_000, recoveredAt: T0 + 30_000 },
    );
    expect(r.violations).toEqual([
      'never: the last of 2 attempts failed',
      'during: an attempt succeeded during the outage',
      'after: an attempt succeeded during the outage',
    ]);
    const late = checkRetrySchedule(new Map([['after', attempts(0, 5, 20)]]), {
      stepsMs: steps,
      lateSlackMs: 1_000,
      recoveredAt: T0 + 3_000,
    });
    expect(late.violations).toEqual(['after: an attempt failed after the endpoint was back']);
  });

  it('checks a delivery sent again after a success (same webhook-id, a second job) as its own run', () => {
    // Job 1 succeeded at once; job 2 (attempt numbers from 1 again) failed twice, then succeeded.
    const resent: AttemptTimes[] = [
      { attempt: 1, at: new Date(T0).toISOString(), ok: true },
      { attempt: 1, at: new Date(T0 + 60_000).toISOString(), ok: false },
      { attempt: 2, at: new Date(T0 + 65_000).toISOString(), ok: false },
      { attempt: 3, at: new Date(T0 + 80_000).toISOString(), ok: true },
    ];
    const r = checkRetrySchedule(new Map([['u-1', resent]]), { stepsMs: steps, lateSlackMs: 1_000 });
    expect(r.violations).toEqual([]);
    expect(r.resent).toBe(1);
    expect(r.resentIds).toEqual(['u-1']);
    expect(r.attemptCounts).toEqual({ 3: 1 });
    expect(r.maxRatio).toBe(1);
  });
});
