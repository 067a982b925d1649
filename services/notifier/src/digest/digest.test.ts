import type { Subscription } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import type { NotifierDeliveryJob } from '../notify/jobs.js';
import { channelKey, digestDeliveryIdFor } from '../notify/keys.js';
import { collectDigest } from './collect-digest.js';
import { digestRepeatOf, scheduledSlotOf } from './schedule.js';

const email = { type: 'email' as const, to: ['desk@example.com'] };
function sub(over: Partial<Subscription> = {}): Subscription {
  return { id: 'd1', team: 't', filter: {}, channels: [email], mode: 'digest', paused: false, ...over };
}

describe('digest schedules', () => {
  it('repeats every N minutes, or daily at a local time through a cron pattern with its time zone', () => {
    expect(digestRepeatOf(sub({ digest: { everyMinutes: 30 } }))).toEqual({ every: 1_800_000, periodMs: 1_800_000 });
    expect(digestRepeatOf(sub({ digest: { dailyAt: '07:05', timeZone: 'Asia/Shanghai' } }))).toEqual({
      pattern: '0 5 7 * * *',
      tz: 'Asia/Shanghai',
      periodMs: 86_400_000,
    });
    expect(digestRepeatOf(sub())).toMatchObject({ pattern: '0 0 8 * * *', tz: 'UTC' });
  });

  it('reads the slot of a scheduler job from its id', () => {
    expect(scheduledSlotOf({ id: 'repeat:digest-d1:1764316800000' })).toBe(1_764_316_800_000);
    expect(scheduledSlotOf({ id: 'tick-1', opts: { prevMillis: 5 } })).toBe(5);
    expect(scheduledSlotOf({ id: 'tick-1' })).toBeUndefined();
  });
});

describe('collectDigest', () => {
  function deps(subscription: Subscription | undefined, stories: string[], total = stories.length, lastEnd?: number) {
    const jobs: NotifierDeliveryJob[] = [];
    const commits: number[] = [];
    return {
      jobs,
      commits,
      deps: {
        subscription: () => subscription,
        window: async () => ({ storyIds: stories, total, ...(lastEnd !== undefined ? { lastEnd } : {}) }),
        enqueue: async (job: NotifierDeliveryJob) => {
          jobs.push(job);
        },
        commit: async (_: string, end: number) => {
          commits.push(end);
        },
      },
    };
  }

  it('queues one delivery per channel with a window-fixed id, oldest story first, then closes the window', async () => {
    const s = sub({ digest: { everyMinutes: 60 } });
    const d = deps(s, ['new', 'old'], 3, 1_000);
    expect(await collectDigest('d1', 3_601_000, d.deps)).toEqual({ stories: 3, queued: 1 });
    expect(d.jobs).toEqual([
      expect.objectContaining({
        kind: 'digest',
        deliveryId: digestDeliveryIdFor('d1', channelKey(email), 3_601_000),
        storyIds: ['old', 'new'],
        omitted: 1,
        window: { from: new Date(1_000).toISOString(), to: new Date(3_601_000).toISOString() },
      }),
    ]);
    expect(d.commits).toEqual([3_601_000]);
  });

  it('sends nothing for an empty window, a paused, removed or no longer digest subscription', async () => {
    const empty = deps(sub(), []);
    expect(await collectDigest('d1', 10, empty.deps)).toEqual({ stories: 0, queued: 0 });
    expect(empty.jobs).toEqual([]);
    expect((await collectDigest('d1', 10, deps(undefined, ['x']).deps)).skipped).toBe('gone');
    expect((await collectDigest('d1', 10, deps(sub({ paused: true }), ['x']).deps)).skipped).toBe('paused');
    expect((await collectDigest('d1', 10, deps(sub({ mode: 'immediate' }), ['x']).deps)).skipped).toBe('not-digest');
  });
});
