import { describe, expect, it } from 'vitest';
import { type BenchResults, evaluateTargets, formatHuman, summarize } from './report.js';

const latency = { count: 100, p50: 20, p95: 60, p99: 80, max: 90 };
const stages = { total: { p50: 20, p99: 80 } };
const queues = {};

function results(over: { pipelinePerSec: number; poller?: boolean }): BenchResults {
  return {
    machine: {
      cpus: 2,
      cpuModel: 'test',
      memoryBytes: 2 ** 30,
      node: 'v20',
      redis: '7.0',
      bullmq: '5',
      loadAverage: 1,
      startedAt: '2026-01-01T00:00:00.000Z',
    },
    reference: {
      jobsPerSec: 1000,
      saturationJobs: 10,
      latency,
      pacedRate: 200,
      concurrency: { a: 8, b: 8, c: 32 },
      cpuMsPerJob: { 'ref-a': 0.2 },
      complete: true,
    },
    pipeline: [
      {
        scale: 1,
        feeds: 64,
        subscriptions: 64,
        saturation: {
          items: 10,
          itemsPerSec: over.pipelinePerSec,
          complete: true,
          seconds: 1,
          cpuMsPerItem: { poller: 1 },
          redisCallsPerItem: 10,
          topRedisCalls: {},
          stages,
          queues,
          webhookConnectionsPerItem: 0,
        },
        paced: { rate: 200, items: 10, complete: true, latency, stages, pacerLateMs: 0, queues },
        memory: [{ service: 'poller', rssBytes: 2 ** 27, heapUsedBytes: 2 ** 25, at: '' }],
        redis: { keys: 1, bytes: 1 },
        rejectedWebhooks: 0,
        duplicateWebhooks: 0,
        pids: {},
      },
    ],
    deliveries: {
      count: 10,
      perSec: 1200,
      complete: true,
      endpoints: 4,
      cpuMsPerDelivery: {},
      connectionsPerDelivery: 0,
    },
    classifier: { itemsPerCpuSec: 30_000, itemsPerSec: 25_000, compileMs: 50, items: { source: 'x', count: 1 } },
    poller: over.poller
      ? {
          notModifiedPollsPerSec: 2000,
          fullParsePollsPerSec: 100,
          redisBytesPerRememberedItem: 150,
          notModifiedCpuMsPerPoll: 0.5,
          fullParseCpuMsPerPoll: 5,
          feeds: 10,
          itemsPerFeed: 50,
        }
      : undefined,
    routing: { subscriptions: 10_000, p50Ms: 0.2, p99Ms: 0.5, buildMs: 10, meanCandidates: 5 },
    alerts: { alerts: 1, bytesPerAlert: 4000, usedMemoryBytesPerAlert: 4000, jsonBytesPerAlert: 3000 },
    seconds: 1,
  };
}

describe('targets', () => {
  it('passes and misses against the issue targets', () => {
    const t = new Map(evaluateTargets(results({ pipelinePerSec: 400, poller: true }), 0.4).map((x) => [x.name, x]));
    expect(t.get('pipeline_vs_reference')!.pass).toBe(false);
    expect(t.get('pipeline_latency_p99_ms')!.pass).toBe(true);
    expect(t.get('poller_full_polls_per_sec')!.pass).toBe(false);
    expect(t.get('deliveries_per_sec')!.pass).toBe(true);
  });

  it('the summary carries the ratio, the misses and what was not measured', () => {
    const s = summarize(results({ pipelinePerSec: 600, poller: false }));
    expect(s['kind']).toBe('summary');
    expect(s['pipeline_vs_reference']).toBe(0.6);
    expect(s['missed']).toEqual([]);
    expect(s['unmeasured']).toEqual([
      'poller_304_polls_per_sec',
      'poller_full_polls_per_sec',
      'redis_bytes_per_remembered_item',
    ]);
  });

  it('marks a miss in the human table', () => {
    const text = formatHuman(results({ pipelinePerSec: 100, poller: true }));
    expect(text).toMatch(/pipeline ÷ reference\s+0\.1\s+≥ 0\.5 ×\s+MISS/);
    expect(text).toContain('MISSED: pipeline_vs_reference, poller_full_polls_per_sec');
  });

  it('takes the ratio against the mean of the reference runs before and after the pipeline', () => {
    const r = results({ pipelinePerSec: 600, poller: true });
    r.referenceAfter = { ...r.reference, jobsPerSec: 1400 };
    const s = summarize(r);
    expect(s['reference_jobs_per_sec']).toBe(1200);
    expect(s['reference_runs_jobs_per_sec']).toEqual([1000, 1400]);
    expect(s['pipeline_vs_reference']).toBe(0.5);
    const text = formatHuman(r);
    expect(text).toMatch(/mean of the runs before \/ after the pipeline\s+1,000 \/ 1,400/);
    expect(text).toMatch(/pipeline ÷ reference\s+0\.5\s/);
  });
});
