import { afterEach, describe, expect, it, vi } from 'vitest';
import { ItemBatcher } from './item-batcher.js';

function recorder(opts: { maxItems?: number; maxWaitMs?: number; fail?: Error } = {}) {
  const sent: string[][] = [];
  const batcher = new ItemBatcher<string>({
    maxItems: opts.maxItems ?? 25,
    maxWaitMs: opts.maxWaitMs ?? 10,
    send: async (items) => {
      sent.push(items);
      if (opts.fail) throw opts.fail;
    },
  });
  return { sent, batcher };
}

describe('ItemBatcher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends a lone poll at once: nobody else is on the way', async () => {
    const { sent, batcher } = recorder();
    await batcher.expect().add(['a', 'b']);
    expect(sent).toEqual([['a', 'b']]);
    expect(batcher.waitingFor).toBe(0);
  });

  it('holds a batch for polls that announced themselves, and sends it when the last one adds', async () => {
    const { sent, batcher } = recorder();
    const p1 = batcher.expect();
    const p2 = batcher.expect();
    const p3 = batcher.expect();
    let firstQueued = false;
    const first = p1.add(['a']).then(() => {
      firstQueued = true;
    });
    const second = p2.add(['b', 'c']);
    await Promise.resolve();
    expect(sent).toEqual([]);
    expect(firstQueued).toBe(false);
    const third = p3.add(['d']);
    await Promise.all([first, second, third]);
    expect(sent).toEqual([['a', 'b', 'c', 'd']]);
  });

  it('lets a batch go when an announced poll ends with nothing new', async () => {
    const { sent, batcher } = recorder();
    const p1 = batcher.expect();
    const p2 = batcher.expect();
    const first = p1.add(['a']);
    expect(sent).toEqual([]);
    p2.done();
    await first;
    expect(sent).toEqual([['a']]);
  });

  it('sends a full batch without waiting for the rest', async () => {
    const { sent, batcher } = recorder({ maxItems: 3 });
    const p1 = batcher.expect();
    const p2 = batcher.expect();
    batcher.expect(); // a third poll still parsing
    const first = p1.add(['a', 'b']);
    const second = p2.add(['c', 'd']);
    await Promise.all([first, second]);
    expect(sent).toEqual([['a', 'b', 'c', 'd']]);
  });

  it('waits no longer than maxWaitMs for a poll that never arrives', async () => {
    vi.useFakeTimers();
    const { sent, batcher } = recorder({ maxWaitMs: 10 });
    const p1 = batcher.expect();
    batcher.expect(); // a poll stuck after its fetch
    const first = p1.add(['a']);
    await vi.advanceTimersByTimeAsync(9);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await first;
    expect(sent).toEqual([['a']]);
  });

  it('rejects every poll of a batch whose send failed, so each is retried', async () => {
    const { sent, batcher } = recorder({ fail: new Error('redis down') });
    const p1 = batcher.expect();
    const p2 = batcher.expect();
    const first = p1.add(['a']);
    const second = p2.add(['b']);
    await expect(first).rejects.toThrow('redis down');
    await expect(second).rejects.toThrow('redis down');
    expect(sent).toEqual([['a', 'b']]);
  });

  it('starts a fresh batch after a send: later polls are not held by an earlier batch', async () => {
    const { sent, batcher } = recorder();
    await batcher.expect().add(['a']);
    const p2 = batcher.expect();
    const p3 = batcher.expect();
    const second = p2.add(['b']);
    p3.done();
    await second;
    expect(sent).toEqual([['a'], ['b']]);
  });

  it('counts a ticket once: add after done, or a second add, is refused', async () => {
    const { batcher } = recorder();
    const t = batcher.expect();
    t.done();
    t.done();
    expect(batcher.waitingFor).toBe(0);
    await expect(t.add(['a'])).rejects.toThrow('already added');
    const u = batcher.expect();
    await u.add(['b']);
    await expect(u.add(['c'])).rejects.toThrow('already added');
    expect(batcher.waitingFor).toBe(0);
  });

  it('refuses options that would never send', () => {
    expect(() => new ItemBatcher({ maxItems: 0, maxWaitMs: 10, send: async () => {} })).toThrow('maxItems');
    expect(() => new ItemBatcher({ maxItems: 5, maxWaitMs: -1, send: async () => {} })).toThrow('maxWaitMs');
  });
});
