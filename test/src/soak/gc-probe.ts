/**
 * Preloaded into each worker by the soak (`node --expose-gc --import <this file> services/x/dist/main.js`,
 * spawned with an IPC channel): on `{ type: 'gc-sample' }` it runs two full collections and answers
 * with the heap left. The services' own code is untouched; nothing here runs outside the soak.
 */
import { getHeapStatistics } from 'node:v8';

interface Sample {
  type: 'gc-sample';
  id: number;
  heapUsedBytes: number;
  rssBytes: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (process.send && gc) {
  process.on('message', (msg: { type?: string; id?: number }) => {
    if (msg?.type !== 'gc-sample') return;
    // Two passes: the first can leave objects whose finalizers free more.
    gc();
    gc();
    const reply: Sample = {
      type: 'gc-sample',
      id: msg.id ?? 0,
      heapUsedBytes: getHeapStatistics().used_heap_size,
      rssBytes: process.memoryUsage.rss(),
    };
    process.send?.(reply);
  });
  // The channel must not keep a worker alive once it has drained on SIGTERM.
  process.channel?.unref();
}
