import { describe, expect, it } from 'vitest';
import { DELIVERY_ATTEMPTS } from '../delivery/retry.js';
import { deliveryJobOptions } from './admin.js';
import {
  batchJobId,
  type DeliveryBatchJob,
  DeliveryBatchJobSchema,
  deliveryEntries,
  MAX_DELIVERIES_PER_BATCH,
  rescueEntries,
} from './batch.js';
import { JOB_NAMES, type NotifierDeliveryJob } from './jobs.js';

function delivery(
  storyId: string,
  subscriptionId = 'sub-a',
  channelKey = 'w-hook',
  over: Partial<NotifierDeliveryJob> = {},
): NotifierDeliveryJob {
  return {
    v: 1,
    kind: 'alert',
    deliveryId: `d-${storyId}-${subscriptionId}-${channelKey}`,
    alertId: `a-${storyId}`,
    storyId,
    subscriptionId,
    channelKey,
    ...over,
  };
}

const idsOf = (data: DeliveryBatchJob) => data.deliveries.map((d) => d.deliveryId);

describe('rescueEntries', () => {
  it('hands each undelivered delivery of a failed batch to a deliver job, counting an attempt already made', () => {
    const batch = [1, 2, 3, 4].map((n) => ({
      v: 1 as const,
      kind: 'alert' as const,
      deliveryId: `d-${n}`,
      alertId: `a-${n}`,
      storyId: `s-${n}`,
      subscriptionId: 'sub',
      channelKey: 'wkey',
    }));
    const entries = rescueEntries(batch, ['delivered', 'retrying', undefined, 'dead'], 7);
    expect(entries.map((e) => [e.name, e.data, e.opts])).toEqual([
      ['deliver', { ...batch[1], firstAttempt: 2 }, deliveryJobOptions('d-2', 6)],
      ['deliver', batch[2], deliveryJobOptions('d-3', 7)],
    ]);
  });
});

describe('deliveryEntries', () => {
  it('gives a lone first delivery its own deliver job, as before batching', () => {
    const d = delivery('s1');
    expect(deliveryEntries([d], 4)).toEqual([
      { name: JOB_NAMES.deliver, data: d, opts: deliveryJobOptions(d.deliveryId, 4) },
    ]);
    expect(deliveryEntries([d])[0]!.opts).toEqual(deliveryJobOptions(d.deliveryId, DELIVERY_ATTEMPTS));
  });

  it('batches the first deliveries routed together, whatever their channels, in the order they were routed', () => {
    const jobs = [
      delivery('s1', 'sub-a', 'w-hook'),
      delivery('s1', 'sub-a', 'e-desk'),
      delivery('s2', 'sub-a', 'w-hook'),
      delivery('s1', 'sub-b', 'w-hook'),
      delivery('s3', 'sub-a', 'w-hook'),
      delivery('s2', 'sub-b', 'w-hook'),
    ];
    const entries = deliveryEntries(jobs);
    expect(entries.map((e) => e.name)).toEqual([JOB_NAMES.deliverBatch]);
    const data = entries[0]!.data as DeliveryBatchJob;
    expect(idsOf(data)).toEqual(jobs.map((j) => j.deliveryId));
    expect(DeliveryBatchJobSchema.parse(data)).toEqual(data);
    expect(entries[0]!.opts.jobId).toBe(batchJobId(data.deliveries));
    expect(entries[0]!.opts.attempts).toBeGreaterThan(1);
  });

  it('leaves the other kinds out of a batch: first deliveries batch around them', () => {
    const update = delivery('s1', 'sub-a', 'w-hook', { kind: 'update', sources: 2, deliveryId: 'u-2', alertId: 'a-2' });
    const jobs = [delivery('s1', 'sub-a', 'w-hook'), update, delivery('s2', 'sub-b', 'e-desk')];
    const entries = deliveryEntries(jobs);
    expect(entries.map((e) => e.name)).toEqual([JOB_NAMES.deliver, JOB_NAMES.deliverBatch]);
    expect(entries[0]!.data).toEqual(update);
    expect(idsOf(entries[1]!.data as DeliveryBatchJob)).toEqual([jobs[0]!, jobs[2]!].map((j) => j.deliveryId));
    // Every delivery is in exactly one job.
    const all = entries.flatMap((e) => ('deliveries' in e.data ? idsOf(e.data) : [e.data.deliveryId]));
    expect(all.sort()).toEqual(jobs.map((j) => j.deliveryId).sort());
  });

  it('names a batch by its deliveries: the same ones give the same id, others another', () => {
    const a = [delivery('s1'), delivery('s2')];
    const id = batchJobId(a);
    expect(batchJobId([delivery('s1'), delivery('s2')])).toBe(id);
    expect(batchJobId([delivery('s1'), delivery('s3')])).not.toBe(id);
    // BullMQ forbids ':' and all-digit ids.
    expect(id).toMatch(/^batch-[0-9a-f]{32}$/);
    expect(deliveryEntries(a)[0]!.opts.jobId).toBe(id);
  });

  it('never batches updates, digests or notices, even to one channel', () => {
    const update = (n: number) =>
      delivery('s1', 'sub-a', 'w-hook', { kind: 'update', sources: n, deliveryId: `u-${n}`, alertId: `a-${n}` });
    const digest = (n: number) =>
      delivery('', 'sub-a', 'w-hook', { kind: 'digest', deliveryId: `g-${n}`, alertId: '', storyIds: ['s1'] });
    const notice = (n: number) =>
      delivery('', 'sub-a', 'e-desk', {
        kind: 'notice',
        deliveryId: `n-${n}`,
        alertId: '',
        notice: { reason: 'WEBHOOK_GONE', since: 'x', disabledAt: 'y', host: 'h' },
      });
    const jobs = [update(2), update(3), digest(1), digest(2), notice(1), notice(2)];
    const entries = deliveryEntries(jobs, 5);
    expect(entries.map((e) => e.name)).toEqual(Array(6).fill(JOB_NAMES.deliver));
    expect(entries.map((e) => e.data)).toEqual(jobs);
    expect(entries.map((e) => e.opts)).toEqual(jobs.map((j) => deliveryJobOptions(j.deliveryId, 5)));
  });

  it(`cuts first deliveries into batches of at most ${MAX_DELIVERIES_PER_BATCH}; a lone remainder is a deliver job`, () => {
    const many = Array.from({ length: 2 * MAX_DELIVERIES_PER_BATCH + 1 }, (_, i) => delivery(`s${i}`));
    const entries = deliveryEntries(many);
    expect(entries.map((e) => e.name)).toEqual([JOB_NAMES.deliverBatch, JOB_NAMES.deliverBatch, JOB_NAMES.deliver]);
    expect(idsOf(entries[0]!.data as DeliveryBatchJob)).toEqual(
      many.slice(0, MAX_DELIVERIES_PER_BATCH).map((d) => d.deliveryId),
    );
    expect(idsOf(entries[1]!.data as DeliveryBatchJob)).toEqual(
      many.slice(MAX_DELIVERIES_PER_BATCH, 2 * MAX_DELIVERIES_PER_BATCH).map((d) => d.deliveryId),
    );
    expect(entries[2]!.data).toEqual(many.at(-1));
    expect(entries[0]!.opts.jobId).not.toBe(entries[1]!.opts.jobId);
    for (const e of entries.slice(0, 2)) expect(() => DeliveryBatchJobSchema.parse(e.data)).not.toThrow();

    const twoLeft = deliveryEntries(many.slice(0, MAX_DELIVERIES_PER_BATCH + 2));
    expect(twoLeft.map((e) => e.name)).toEqual([JOB_NAMES.deliverBatch, JOB_NAMES.deliverBatch]);
    expect((twoLeft[1]!.data as DeliveryBatchJob).deliveries).toHaveLength(2);
  });

  it('queues nothing for nothing', () => {
    expect(deliveryEntries([])).toEqual([]);
  });
});
