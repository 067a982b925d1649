import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { scanKeys, stateKey } from './connection.js';

export interface Heartbeat {
  service: string;
  instance: string;
  pid: number;
  at: string;
  rssBytes: number;
  heapUsedBytes: number;
  /**
   * Job shapes this instance reads beyond the first version of its queues (see
   * {@link JOB_SHAPES_READ}); absent on instances older than the first such shape.
   */
  reads?: string[];
}

/**
 * Job shapes a newer release reads that an older one does not. Producers write a new shape only
 * when every live reader says it reads it ({@link createShapeGate}), so a rolling update never
 * hands a job to a worker that would fail it as an unknown payload.
 */
export const JOB_SHAPES = {
  /** `items` jobs `{v: 2, items}`: a poll's new items in one job. Read by the classifier. */
  itemBatches: 'items/v2',
  /** `deliveries` jobs named `deliver-batch`: a channel's first deliveries in one job. Read by the notifier. */
  deliveryBatches: 'deliveries/deliver-batch',
} as const;

/** What each service reads, by service name (what its heartbeat says). */
export const JOB_SHAPES_READ: Readonly<Record<string, readonly string[]>> = {
  classifier: [JOB_SHAPES.itemBatches],
  notifier: [JOB_SHAPES.deliveryBatches],
};

const INTERVAL_MS = 5_000;
const TTL_SECONDS = 20;

/**
 * Every few seconds, each service instance writes who it is and its memory into a key that
 * expires: readiness checks and the ops view see which workers are alive, benchmarks read
 * their memory. A missed beat for 20 s means the instance is gone or stuck.
 */
export function startHeartbeat(redis: Redis, prefix: string, service: string): { close(): Promise<void> } {
  const instance = `${hostname()}-${process.pid}`;
  const key = stateKey(prefix, 'heartbeat', service, instance);
  const beat = async () => {
    const mem = process.memoryUsage();
    const reads = JOB_SHAPES_READ[service];
    const value: Heartbeat = {
      service,
      instance,
      pid: process.pid,
      at: new Date().toISOString(),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      ...(reads ? { reads: [...reads] } : {}),
    };
    await redis.set(key, JSON.stringify(value), 'EX', TTL_SECONDS);
  };
  const timer = setInterval(() => void beat().catch(() => {}), INTERVAL_MS);
  timer.unref();
  void beat().catch(() => {});
  return {
    close: async () => {
      clearInterval(timer);
      await redis.del(key).catch(() => 0);
    },
  };
}

/** Live heartbeats, optionally of one service (on a cluster, every master is scanned). */
export async function readHeartbeats(redis: Redis, prefix: string, service = '*'): Promise<Heartbeat[]> {
  const keys = await scanKeys(redis, stateKey(prefix, 'heartbeat', service, '*'));
  if (keys.length === 0) return [];
  const values = await redis.mget(keys);
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as Heartbeat);
}

export interface ShapeGate {
  /** Whether to write the shape now (the last check's answer; true until the first check says otherwise). */
  (): boolean;
  /** Checks the live readers now. */
  refresh(): Promise<boolean>;
  /** Settles once the first check has (await it before the first write: until then the answer is a guess). */
  readonly ready: Promise<void>;
  close(): void;
}

/**
 * Whether producers may write `shape` for `reader` (a service name): true when every live
 * instance of the reader says it reads the shape, or none is live (whichever starts next is this
 * release or newer). Checked every `everyMs` in the background, so producers ask a boolean, not
 * Redis. An instance older than the shape beats without it and turns the gate off until it is gone.
 */
export function createShapeGate(
  redis: Redis,
  prefix: string,
  reader: string,
  shape: string,
  options: { everyMs?: number; onChange?: (open: boolean) => void } = {},
): ShapeGate {
  let open = true;
  const refresh = async () => {
    const beats = await readHeartbeats(redis, prefix, reader);
    const next = beats.every((b) => b.reads?.includes(shape) === true);
    if (next !== open) options.onChange?.(next);
    open = next;
    return open;
  };
  const timer = setInterval(() => void refresh().catch(() => {}), options.everyMs ?? 10_000);
  timer.unref();
  const first = refresh().then(
    () => undefined,
    () => undefined,
  );
  const gate = (() => open) as ShapeGate & { ready: Promise<void> };
  gate.ready = first;
  gate.refresh = refresh;
  gate.close = () => clearInterval(timer);
  return gate;
}
