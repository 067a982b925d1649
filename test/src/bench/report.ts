import type { ClassifierResult, PollerResult, RoutingResult } from './components.js';
import type { AlertBytes } from './memory.js';
import type { DeliveriesResult, PipelineResult, StageBreakdown } from './pipeline.js';
import type { ProfileSummary } from './profile.js';
import type { ReferenceResult } from './reference.js';
import { round } from './stats.js';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  redis: string;
  bullmq: string;
  /** 1-minute load average when the run started: other users of the machine skew every figure. */
  loadAverage: number;
  startedAt: string;
}

export interface BenchResults {
  machine: Machine;
  reference: ReferenceResult;
  /**
   * The reference's saturation run again, right after the pipeline's: the yardstick is the mean of
   * the two, so a machine that speeds up or slows down between them (these shared VMs do, by a
   * third at times) moves the ratio less.
   */
  referenceAfter?: ReferenceResult;
  /** `--reference-coalesced`: the chain again with regwatch's write coalescing (informational). */
  coalescedReference?: ReferenceResult;
  pipeline: PipelineResult[];
  deliveries: DeliveriesResult;
  classifier: ClassifierResult;
  poller: PollerResult | undefined;
  routing: RoutingResult;
  alerts: AlertBytes;
  seconds: number;
}

export interface Target {
  name: string;
  value: number | undefined;
  op: '>=' | '<' | '<=';
  limit: number;
  unit: string;
  /** `undefined` when the figure could not be measured in this run. */
  pass: boolean | undefined;
}

function target(name: string, value: number | undefined, op: Target['op'], limit: number, unit: string): Target {
  const ok =
    value === undefined || Number.isNaN(value)
      ? undefined
      : op === '>='
        ? value >= limit
        : op === '<'
          ? value < limit
          : value <= limit;
  return { name, value, op, limit, unit, pass: ok };
}

/** The yardstick in jobs/s: the mean of the reference's runs before and after the pipeline (or the one run). */
export function referenceRate(r: Pick<BenchResults, 'reference' | 'referenceAfter'>): number {
  return r.referenceAfter
    ? Math.round((r.reference.jobsPerSec + r.referenceAfter.jobsPerSec) / 2)
    : r.reference.jobsPerSec;
}

/** The figures the summary carries, flat, with units in the names. */
export function summarize(r: BenchResults): Record<string, unknown> {
  const base = r.pipeline[0]!;
  const ratio = round(base.saturation.itemsPerSec / referenceRate(r), 2);
  const targets = evaluateTargets(r, ratio);
  const mem = Object.fromEntries(
    base.memory.flatMap((m) => [
      [`${m.service}_rss_bytes`, m.rssBytes],
      [`${m.service}_heap_used_bytes`, m.heapUsedBytes],
    ]),
  );
  return {
    kind: 'summary',
    pipeline_vs_reference: ratio,
    reference_jobs_per_sec: referenceRate(r),
    reference_runs_jobs_per_sec: [r.reference.jobsPerSec, ...(r.referenceAfter ? [r.referenceAfter.jobsPerSec] : [])],
    ...(r.coalescedReference ? { reference_coalesced_jobs_per_sec: r.coalescedReference.jobsPerSec } : {}),
    reference_latency_ms: pick(r.reference.latency),
    pipeline_items_per_sec: base.saturation.itemsPerSec,
    pipeline_latency_ms: base.paced ? pick(base.paced.latency) : undefined,
    pipeline_paced_items_per_sec: base.paced?.rate,
    deliveries_per_sec: r.deliveries.perSec,
    classifier_items_per_sec: r.classifier.itemsPerCpuSec,
    classifier_items_per_wall_sec: r.classifier.itemsPerSec,
    classifier_compile_ms: r.classifier.compileMs,
    poller_304_polls_per_sec: r.poller?.notModifiedPollsPerSec,
    poller_full_polls_per_sec: r.poller?.fullParsePollsPerSec,
    redis_bytes_per_remembered_item: r.poller?.redisBytesPerRememberedItem,
    poller_cpu_ms_per_poll: r.poller
      ? { not_modified: r.poller.notModifiedCpuMsPerPoll, full_parse: r.poller.fullParseCpuMsPerPoll }
      : undefined,
    redis_bytes_per_alert: r.alerts.bytesPerAlert,
    routing_p50_ms: r.routing.p50Ms,
    routing_p99_ms: r.routing.p99Ms,
    memory: mem,
    scale: r.pipeline.map((p) => ({
      scale: p.scale,
      feeds: p.feeds,
      subscriptions: p.subscriptions,
      items_per_sec: p.saturation.itemsPerSec,
      rss_bytes: Object.fromEntries(p.memory.map((m) => [m.service, m.rssBytes])),
      heap_used_bytes: Object.fromEntries(p.memory.map((m) => [m.service, m.heapUsedBytes])),
      redis_bytes: p.redis.bytes,
    })),
    targets: Object.fromEntries(
      targets.map((t) => [t.name, { value: t.value ?? null, target: `${t.op} ${t.limit}`, pass: t.pass ?? null }]),
    ),
    missed: targets.filter((t) => t.pass === false).map((t) => t.name),
    unmeasured: targets.filter((t) => t.pass === undefined).map((t) => t.name),
    seconds: r.seconds,
    machine: r.machine,
  };
}

export function evaluateTargets(r: BenchResults, ratio: number): Target[] {
  const base = r.pipeline[0]!;
  return [
    target('pipeline_vs_reference', ratio, '>=', 0.5, '×'),
    target('pipeline_latency_p99_ms', base.paced?.latency.p99, '<', 100, 'ms'),
    target('classifier_items_per_sec', r.classifier.itemsPerCpuSec, '>=', 20_000, 'items/s'),
    target('classifier_compile_ms', r.classifier.compileMs, '<', 200, 'ms'),
    target('poller_304_polls_per_sec', r.poller?.notModifiedPollsPerSec, '>=', 1000, 'polls/s'),
    target('poller_full_polls_per_sec', r.poller?.fullParsePollsPerSec, '>=', 150, 'polls/s'),
    target('redis_bytes_per_remembered_item', r.poller?.redisBytesPerRememberedItem, '<=', 200, 'B'),
    target('routing_p99_ms', r.routing.p99Ms, '<', 1, 'ms'),
    target('deliveries_per_sec', r.deliveries.perSec, '>=', 1000, '/s'),
  ];
}

function pick(l: { p50: number; p95: number; p99: number }) {
  return { p50: l.p50, p95: l.p95, p99: l.p99 };
}

const num = (x: number | undefined, digits = 0) =>
  x === undefined || Number.isNaN(x)
    ? 'n/a'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const mib = (b: number) => (Number.isNaN(b) ? 'n/a' : `${(b / 1024 / 1024).toFixed(0)}`);
const lat = (l: { p50: number; p95: number; p99: number }) => `${num(l.p50)} / ${num(l.p95)} / ${num(l.p99)} ms`;

function status(t: Target | undefined): string {
  if (!t) return '';
  if (t.pass === undefined) return 'not measured';
  return t.pass ? 'ok' : 'MISS  <<<';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function stagesTable(title: string, s: StageBreakdown): string {
  const names = Object.keys(s);
  return table([
    [title, ...names],
    ['p50 ms', ...names.map((n) => num(s[n]!.p50, 1))],
    ['p99 ms', ...names.map((n) => num(s[n]!.p99, 1))],
  ]);
}

/** The human report: machine, every figure with its target, how cost grows, and where the time goes. */
export function formatHuman(r: BenchResults): string {
  const m = r.machine;
  const base = r.pipeline[0]!;
  const ratio = round(base.saturation.itemsPerSec / referenceRate(r), 2);
  const targets = new Map(evaluateTargets(r, ratio).map((t) => [t.name, t]));
  const t = (name: string) => {
    const x = targets.get(name)!;
    return [`${x.op === '>=' ? '≥' : x.op === '<=' ? '≤' : '<'} ${num(x.limit, 2)} ${x.unit}`, status(x)];
  };
  const out: string[] = [];
  out.push(
    `regwatch bench  ${m.startedAt}  (${r.seconds} s)`,
    `machine: ${m.cpus} cores (${m.cpuModel}), ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB, node ${m.node}, redis ${m.redis}, bullmq ${m.bullmq}, load average ${m.loadAverage} at start`,
    '',
  );
  const paced = base.paced;
  const rows: string[][] = [
    ['', 'measurement', 'figure', 'target', ''],
    [
      'reference',
      'BullMQ chain A→B→C, no-op processors',
      `${num(referenceRate(r))} jobs/s`,
      '',
      r.reference.complete && (r.referenceAfter?.complete ?? true) ? '' : 'INCOMPLETE',
    ],
    ...(r.referenceAfter
      ? [
          [
            '',
            'mean of the runs before / after the pipeline',
            `${num(r.reference.jobsPerSec)} / ${num(r.referenceAfter.jobsPerSec)}`,
            '',
            '',
          ],
        ]
      : []),
    ['', `latency p50/p95/p99 at ${num(r.reference.pacedRate)}/s`, lat(r.reference.latency), '', ''],
    ...(r.coalescedReference
      ? [
          [
            '',
            "same chain with regwatch's write coalescing (not the yardstick)",
            `${num(r.coalescedReference.jobsPerSec)} jobs/s`,
            '',
            r.coalescedReference.complete ? '' : 'INCOMPLETE',
          ],
        ]
      : []),
    [
      'pipeline',
      'poller → classifier → notifier → webhook',
      `${num(base.saturation.itemsPerSec)} items/s`,
      '',
      base.saturation.complete ? '' : 'INCOMPLETE',
    ],
    ['', 'pipeline ÷ reference', num(ratio, 2), ...t('pipeline_vs_reference')],
    [
      '',
      `latency p50/p95/p99 at ${num(paced?.rate)} items/s`,
      paced ? lat(paced.latency) : 'n/a',
      ...t('pipeline_latency_p99_ms'),
    ],
    [
      '',
      `webhook deliveries, ${r.deliveries.endpoints} local endpoints`,
      `${num(r.deliveries.perSec)} /s`,
      ...t('deliveries_per_sec'),
    ],
    [
      'classifier',
      `one core, ${r.classifier.items.source} (${r.classifier.items.count} items)`,
      `${num(r.classifier.itemsPerCpuSec)} items/s`,
      ...t('classifier_items_per_sec'),
    ],
    ['', 'wall clock (shared core)', `${num(r.classifier.itemsPerSec)} items/s`, '', ''],
    ['', 'rules compile', `${num(r.classifier.compileMs, 1)} ms`, ...t('classifier_compile_ms')],
    [
      'poller',
      `304 path (${num(r.poller?.notModifiedCpuMsPerPoll, 2)} CPU ms/poll)`,
      `${num(r.poller?.notModifiedPollsPerSec)} polls/s`,
      ...t('poller_304_polls_per_sec'),
    ],
    [
      '',
      `full parse path, ${num(r.poller?.itemsPerFeed)} items (${num(r.poller?.fullParseCpuMsPerPoll, 2)} CPU ms/poll)`,
      `${num(r.poller?.fullParsePollsPerSec)} polls/s`,
      ...t('poller_full_polls_per_sec'),
    ],
    [
      'routing',
      `match at ${num(r.routing.subscriptions)} subscriptions p50/p99`,
      `${num(r.routing.p50Ms, 3)} / ${num(r.routing.p99Ms, 3)} ms`,
      ...t('routing_p99_ms'),
    ],
    [
      'memory',
      'Redis per remembered item',
      `${num(r.poller?.redisBytesPerRememberedItem, 1)} B`,
      ...t('redis_bytes_per_remembered_item'),
    ],
    ['', 'Redis per retained alert', `${num(r.alerts.bytesPerAlert)} B`, '', ''],
    ...base.memory.map((w) => [
      '',
      `${w.service} RSS / heap used at the end`,
      `${mib(w.rssBytes)} / ${mib(w.heapUsedBytes)} MiB`,
      '',
      '',
    ]),
  ];
  out.push(table(rows), '');

  out.push('how cost grows (saturation, workers as processes)');
  out.push(
    table([
      ['scale', 'feeds', 'subs', 'items/s', ...base.memory.map((w) => `${w.service} RSS/heap MiB`), 'Redis MiB (keys)'],
      ...r.pipeline.map((p) => [
        `${p.scale}×`,
        String(p.feeds),
        String(p.subscriptions),
        num(p.saturation.itemsPerSec),
        ...p.memory.map((w) => `${mib(w.rssBytes)} / ${mib(w.heapUsedBytes)}`),
        `${(p.redis.bytes / 1024 / 1024).toFixed(1)} (${num(p.redis.keys)})`,
      ]),
    ]),
    '',
  );

  out.push('where the time goes (pipeline 1×)');
  if (paced) out.push(stagesTable(`at ${num(paced.rate)} items/s`, paced.stages), '');
  out.push(stagesTable('at saturation', base.saturation.stages), '');
  const cpuLine = (label: string, cpu: Record<string, number>) => {
    const total = Object.values(cpu).reduce((sum, v) => sum + (Number.isNaN(v) ? 0 : v), 0);
    const parts = Object.entries(cpu).map(([k, v]) => `${k} ${num(v, 2)}`);
    return `${label}: ${parts.join(', ')} (total ${num(total, 2)} ms: at most ${num((m.cpus * 1000) / total)}/s on ${m.cpus} idle cores)`;
  };
  out.push(
    cpuLine('CPU ms per item, pipeline at saturation', base.saturation.cpuMsPerItem),
    cpuLine('CPU ms per chain, reference at saturation', r.reference.cpuMsPerJob),
    ...(r.referenceAfter
      ? [cpuLine('CPU ms per chain, reference after the pipeline', r.referenceAfter.cpuMsPerJob)]
      : []),
    ...(r.coalescedReference
      ? [cpuLine('CPU ms per chain, reference with write coalescing', r.coalescedReference.cpuMsPerJob)]
      : []),
    cpuLine('CPU ms per webhook delivery', r.deliveries.cpuMsPerDelivery),
    `Redis commands per item (INFO commandstats: every client, calls inside Lua scripts included): ${num(base.saturation.redisCallsPerItem, 1)} (${Object.entries(
      base.saturation.topRedisCalls,
    )
      .map(([k, v]) => `${k} ${num(v, 1)}`)
      .join(', ')})`,
  );
  const missed = [...targets.values()].filter((x) => x.pass === false).map((x) => x.name);
  out.push('', missed.length === 0 ? 'every measured target met' : `MISSED: ${missed.join(', ')}`);
  return out.join('\n');
}

/** The `--profile` report: Redis commands per item next to BullMQ's own, and each worker's CPU by owner and function. */
export function formatProfile(
  result: PipelineResult,
  reference: ReferenceResult,
  profiles: ReadonlyArray<ProfileSummary & { service: string }>,
): string {
  const sat = result.saturation;
  const own = sat.ownRedisCallsPerItem ?? { sent: {}, inScripts: Number.NaN };
  const ref = reference.ownRedisCallsPerJob ?? { sent: {}, inScripts: Number.NaN };
  const names = [...new Set([...Object.keys(own.sent), ...Object.keys(ref.sent)])];
  const total = (xs: Record<string, number>) => Object.values(xs).reduce((a, b) => a + b, 0);
  const out = [
    `under profiling (slower than a normal run): pipeline ${num(sat.itemsPerSec)} items/s (${sat.items} items), reference ${num(reference.jobsPerSec)} chains/s`,
    '',
    'Redis commands naming the bench keys (MONITOR), sent by the clients',
    table([
      ['command', 'pipeline per item', 'reference per chain'],
      ...names.map((k) => [k, num(own.sent[k], 2), num(ref.sent[k], 2)]),
      ['total sent', num(total(own.sent), 1), num(total(ref.sent), 1)],
      ['run inside Lua scripts', num(own.inScripts, 1), num(ref.inScripts, 1)],
    ]),
    '',
    cpuText('pipeline CPU ms per item', sat.cpuMsPerItem),
    cpuText('reference CPU ms per chain', reference.cpuMsPerJob),
    `webhook connections opened per item: ${num(sat.webhookConnectionsPerItem, 3)}`,
  ];
  for (const p of profiles) {
    const perItem = (ms: number) => num(ms / Math.max(1, sat.items), 3);
    out.push(
      '',
      `${p.service}: ${num(p.totalMs)} ms of CPU in the profile (${perItem(p.totalMs)} ms per item, start-up included)`,
      table([['self time by owner', 'ms', 'ms/item'], ...p.byOwner.map(([k, v]) => [k, num(v), perItem(v)])]),
      table([['top functions (self)', 'ms'], ...p.topFunctions.map(([k, v]) => [k, num(v)])]),
    );
  }
  return out.join('\n');
}

function cpuText(label: string, cpu: Record<string, number>): string {
  return `${label}: ${Object.entries(cpu)
    .map(([k, v]) => `${k} ${num(v, 2)}`)
    .join(', ')}`;
}
