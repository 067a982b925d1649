import { QUEUES, SubscriptionSchema } from '@regwatch/contracts';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from './testing.js';

const fileSubscriptions = ['chips-a', 'autos-a'].map((id) =>
  SubscriptionSchema.parse({ id, team: id.split('-')[0], channels: [{ type: 'email', to: ['x@example.com'] }] }),
);

let api: Awaited<ReturnType<typeof createTestApi>>;
beforeAll(async () => {
  api = await createTestApi({ fileSubscriptions });
});
afterAll(async () => {
  await api.close();
});

function letter(n: number, subscriptionId: string) {
  const deliveryId = `d-${n}`;
  return {
    id: deliveryId,
    deliveryId,
    kind: 'alert',
    alertId: `a-${n}`,
    storyId: `s-${n}`,
    subscriptionId,
    channelKey: 'e123',
    channel: 'email' as const,
    reason: 'SMTP_REJECTED',
    message: 'mx.example.com answered 550',
    failedAt: new Date(Date.parse('2025-11-20T10:00:00Z') + n * 1000).toISOString(),
    attempts: 1,
    job: { v: 1, kind: 'alert', deliveryId, alertId: `a-${n}`, storyId: `s-${n}`, subscriptionId, channelKey: 'e123' },
  };
}

describe('deliveries over the API (real Redis)', () => {
  it('lists dead letters newest first, per team, and replays one back onto the queue', async () => {
    for (let n = 1; n <= 3; n++) await api.app.ctx.notifier.deadLetters.add(letter(n, n === 2 ? 'autos-a' : 'chips-a'));
    const ops = await api.app.inject({ url: '/v1/deliveries?state=dead', headers: await api.headers('ops') });
    expect(ops.statusCode).toBe(200);
    expect(ops.json().deliveries.map((d: { id: string }) => d.id)).toEqual(['d-3', 'd-2', 'd-1']);
    expect(ops.json().deliveries[0]).toMatchObject({
      state: 'dead',
      reason: 'SMTP_REJECTED',
      subscriptionId: 'chips-a',
    });
    const paged = await api.app.inject({ url: '/v1/deliveries?state=dead&limit=2', headers: await api.headers('ops') });
    const next = await api.app.inject({
      url: `/v1/deliveries?state=dead&limit=2&cursor=${paged.json().nextCursor}`,
      headers: await api.headers('ops'),
    });
    expect(next.json().deliveries.map((d: { id: string }) => d.id)).toEqual(['d-1']);
    const team = await api.app.inject({ url: '/v1/deliveries?state=dead', headers: await api.headers('team:autos') });
    expect(team.json().deliveries.map((d: { id: string }) => d.id)).toEqual(['d-2']);

    // Teams read, only ops and admin replay.
    const denied = await api.app.inject({
      method: 'POST',
      url: '/v1/deliveries/d-3/replay',
      headers: await api.headers('team:chips'),
    });
    expect(denied.statusCode).toBe(403);
    const replayed = await api.app.inject({
      method: 'POST',
      url: '/v1/deliveries/d-3/replay',
      headers: await api.headers('ops'),
    });
    expect(replayed.statusCode).toBe(202);
    expect(replayed.json()).toEqual({ id: 'd-3', state: 'dead', jobId: 'd-3-r1' });
    const job = await api.app.ctx.queues.deliveries.getJob('d-3-r1');
    expect(job?.data).toMatchObject({ deliveryId: 'd-3', subscriptionId: 'chips-a', replay: 1 });
    expect(await api.app.ctx.notifier.deadLetters.get('d-3')).toBeUndefined();
    const again = await api.app.inject({
      method: 'POST',
      url: '/v1/deliveries/d-3/replay',
      headers: await api.headers('ops'),
    });
    expect(again.statusCode).toBe(404);

    const many = await api.app.inject({
      method: 'POST',
      url: '/v1/deliveries/replay',
      headers: await api.headers('admin'),
      payload: { ids: ['d-1', 'd-2', 'nope'] },
    });
    expect(many.statusCode).toBe(202);
    expect(many.json().replayed.map((r: { id: string }) => r.id)).toEqual(['d-1', 'd-2']);
    expect(many.json().notFound).toEqual(['nope']);
    const both = await api.app.inject({
      method: 'POST',
      url: '/v1/deliveries/replay',
      headers: await api.headers('admin'),
      payload: { ids: ['d-1'], state: 'dead' },
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().problems).toEqual(['ids: give either "ids" or "state", not both']);
  });

  it('lists failed jobs of the deliveries queue and retries them', async () => {
    const queue = api.app.ctx.queues.deliveries;
    const data = { v: 1, deliveryId: 'd-f', alertId: 'a', storyId: 's', subscriptionId: 'chips-a', channelKey: 'e1' };
    await queue.add('deliver', data, { jobId: 'd-f', attempts: 1 });
    const connection = createRedis(process.env.REDIS_URL, 'worker');
    let runs = 0;
    const worker = new Worker(
      QUEUES.deliveries,
      async (job) => {
        if (job.id === 'd-f') runs++;
        throw new UnrecoverableError('WEBHOOK_GONE: hooks.example.com answered 410');
      },
      { connection, prefix: bullPrefix(api.prefix), autorun: true },
    );
    try {
      await expect
        .poll(async () => (await queue.getJob('d-f'))?.failedReason, { timeout: 5_000 })
        .toMatch(/WEBHOOK_GONE/);
      const failed = await api.app.inject({ url: '/v1/deliveries?state=failed', headers: await api.headers('ops') });
      // The replays queued by the previous test fail here too; d-f is the one of interest.
      expect(failed.json().deliveries.find((d: { id: string }) => d.id === 'd-f')).toMatchObject({
        state: 'failed',
        reason: 'WEBHOOK_GONE',
        subscriptionId: 'chips-a',
        attempts: 1,
      });
      const replay = await api.app.inject({
        method: 'POST',
        url: '/v1/deliveries/d-f/replay',
        headers: await api.headers('ops'),
      });
      expect(replay.json()).toEqual({ id: 'd-f', state: 'failed', jobId: 'd-f' });
      await expect.poll(() => runs, { timeout: 5_000 }).toBe(2);
    } finally {
      await worker.close();
      await connection.quit();
    }
  });

  it('lists a delivery that left a batch after a failed first attempt as retrying, with that attempt counted', async () => {
    const queue = api.app.ctx.queues.deliveries;
    const base = { v: 1, kind: 'alert', alertId: 'a-b', storyId: 's-b', subscriptionId: 'chips-a', channelKey: 'w1' };
    // What the notifier's batch handoff queues: attempt 1 failed in the deliver-batch job.
    await queue.add(
      'deliver',
      { ...base, deliveryId: 'd-batch', firstAttempt: 2 },
      { jobId: 'd-batch', delay: 3_600_000 },
    );
    // No slot at its endpoint: deferred without an attempt, not a problem.
    await queue.add('deliver', { ...base, deliveryId: 'd-deferred' }, { jobId: 'd-deferred', delay: 3_600_000 });
    const res = await api.app.inject({ url: '/v1/deliveries?state=retrying', headers: await api.headers('ops') });
    expect(res.statusCode).toBe(200);
    const ids = res.json().deliveries.map((d: { id: string }) => d.id);
    expect(ids).toContain('d-batch');
    expect(ids).not.toContain('d-deferred');
    expect(res.json().deliveries.find((d: { id: string }) => d.id === 'd-batch')).toMatchObject({
      state: 'retrying',
      deliveryId: 'd-batch',
      subscriptionId: 'chips-a',
      attempts: 1,
    });
    const team = await api.app.inject({
      url: '/v1/deliveries?state=retrying',
      headers: await api.headers('team:autos'),
    });
    expect(team.json().deliveries.map((d: { id: string }) => d.id)).not.toContain('d-batch');

    // Replay runs it now.
    const replay = await api.app.inject({
      method: 'POST',
      url: '/v1/deliveries/d-batch/replay',
      headers: await api.headers('ops'),
    });
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toEqual({ id: 'd-batch', state: 'retrying', jobId: 'd-batch' });
    expect(await (await queue.getJob('d-batch'))?.getState()).toBe('waiting');
    await queue.remove('d-batch');
    await queue.remove('d-deferred');
  });

  it('shows one delivery with its attempts, to its own team only', async () => {
    await api.app.ctx.notifier.deliveryLog.record({
      deliveryId: 'd-log',
      alertId: 'a-1',
      subscriptionId: 'chips-a',
      channel: 'email',
      attempt: 1,
      at: new Date().toISOString(),
      ok: false,
      code: 451,
      latencyMs: 30,
      error: 'SMTP_TEMPORARY: try later',
    });
    const res = await api.app.inject({ url: '/v1/deliveries/d-log', headers: await api.headers('team:chips') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      deliveryId: 'd-log',
      status: { state: 'retrying', code: 451 },
      attempts: [{ ok: false }],
    });
    expect(
      (await api.app.inject({ url: '/v1/deliveries/d-log', headers: await api.headers('team:autos') })).statusCode,
    ).toBe(404);
    expect((await api.app.inject({ url: '/v1/deliveries/nope', headers: await api.headers('ops') })).statusCode).toBe(
      404,
    );
  });
});
