import type { ClassifyInput } from '@regwatch/contracts';
import { compileRules, type Engine } from './engine.js';
import { loadRules, type Rules } from './taxonomy.js';

export interface BenchOptions {
  /** Sample items; cycled to make a batch of `batchSize` (10,000 by default). */
  items: readonly ClassifyInput[];
  /** How long to keep classifying, at least one full batch. */
  seconds?: number;
  /** Taxonomy to use; the bundled one by default. */
  rules?: Rules;
  batchSize?: number;
  watchTerms?: readonly string[];
}

export interface BenchResult {
  /** Items classified per second of wall-clock time on this (single) thread. */
  itemsPerSecond: number;
  /**
   * Items per second of CPU time used by the process while classifying: the one-core figure that
   * other work on a shared machine does not distort (includes V8's GC helper threads, so it is a floor).
   */
  itemsPerCpuSecond: number;
  /** Time to compile the taxonomy into an engine (median of 5 compiles, after one warm-up). */
  compileMs: number;
  /** Time to read and validate the YAML. */
  loadMs: number;
  items: number;
  seconds: number;
}

/**
 * Measures the classifier on one core: compile time of the taxonomy and items/s over batches of
 * 10,000 items. Runs synchronously on the calling thread.
 */
export function benchClassifier(options: BenchOptions): BenchResult {
  if (options.items.length === 0) throw new Error('benchClassifier needs at least one item');
  const t0 = performance.now();
  const rules = options.rules ?? loadRules();
  const loadMs = performance.now() - t0;
  const compileTimes: number[] = [];
  let engine: Engine | undefined;
  for (let i = 0; i < 6; i++) {
    const start = performance.now();
    engine = compileRules(rules);
    if (i > 0) compileTimes.push(performance.now() - start);
  }
  compileTimes.sort((a, b) => a - b);
  const compileMs = compileTimes[Math.floor(compileTimes.length / 2)]!;

  const batchSize = options.batchSize ?? 10_000;
  const batch = Array.from({ length: batchSize }, (_, i) => options.items[i % options.items.length]!);
  const opts = options.watchTerms ? { watchTerms: options.watchTerms } : undefined;
  // Warm-up: let the JIT settle and fill the normalizer's memo before timing.
  for (let i = 0; i < Math.min(2000, batchSize); i++) engine!.classify(batch[i]!, opts);

  const budgetMs = (options.seconds ?? 2) * 1000;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let elapsed = 0;
  do {
    for (const item of batch) engine!.classify(item, opts);
    done += batch.length;
    elapsed = performance.now() - start;
  } while (elapsed < budgetMs);
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    itemsPerSecond: Math.round((done / elapsed) * 1000),
    itemsPerCpuSecond: Math.round((done / cpuMs) * 1000),
    compileMs: Math.round(compileMs * 100) / 100,
    loadMs: Math.round(loadMs * 100) / 100,
    items: done,
    seconds: Math.round(elapsed) / 1000,
  };
}
