import type { Alert, Subscription } from '@regwatch/contracts';
import { runScript, stateKey, tickPipelineOf } from '@regwatch/queue';
import { AlertStore, DeliveryLog } from '@regwatch/store';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DELIVERY_ATTEMPTS } from '../delivery/retry.js';
import { DigestBucket } from '../digest/digest-bucket.js';
import { buildRoutingIndex, type RoutingIndex } from '../routing/routing-index.js';
import { deliveryEntries } from './batch.js';
import type { NotifierDeliveryJob } from './jobs.js';
import { type RouteAlertDeps, type RouteOutcome, routeAlerts } from './route-alert.js';

/** How long "this story went to this channel" is remembered: longer than any feed re-surfaces an item. */
export const QUEUED_MARK_SECONDS = 30 * 24 * 3600;

/**
 * The queued marks as claims, several in one call: each mark is set to its claiming alert's id
 * (ARGV[i]) if absent. Per key, 1 when free or already that alert's (a retried job), 0 when another
 * alert holds it (marks from before claims hold "1"). Keys are claimed in order, so two claims of
 * one mark in a call behave as two calls one after the other. ARGV[#KEYS + 1] is the mark's TTL.
 */
const CLAIM_MANY = `
local ttl = ARGV[#KEYS + 1]
local out = {}
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[i], 'NX', 'EX', ttl) then
    out[i] = 1
  elseif redis.call('GET', KEYS[i]) == ARGV[i] then
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

/**
 * Claims asked for in one run of the microtask queue — every candidate of a `routeMany` — as one
 * script call: one command on the wire and in Redis per batch of items instead of one per delivery.
 */
function createClaimBatcher(state: Redis, prefix: string): (deliveryId: string, alertId: string) => Promise<boolean> {
  let pending: Array<{ key: string; alertId: string; resolve: (ok: boolean) => void; reject: (err: unknown) => void }> =
    [];
  const flush = () => {
    const batch = pending;
    pending = [];
    const keys = batch.map((c) => c.key);
    const args: Array<string | number> = batch.map((c) => c.alertId);
    args.push(QUEUED_MARK_SECONDS);
    runScript(state, CLAIM_MANY, keys, args).then(
      (reply) => {
        const claimed = reply as number[];
        for (let i = 0; i < batch.length; i++) {
          const r = claimed[i];
          if (r === undefined) batch[i]!.reject(new Error('claim: no reply for a delivery'));
          else batch[i]!.resolve(r === 1);
        }
      },
      (err: unknown) => {
        for (const c of batch) c.reject(err);
      },
    );
  };
  return (deliveryId, alertId) =>
    new Promise<boolean>((resolve, reject) => {
      pending.push({ key: stateKey(prefix, 'queued', deliveryId), alertId, resolve, reject });
      if (pending.length === 1) queueMicrotask(flush);
    });
}

export interface AlertRouterDeps {
  /** regwatch's state connection (not BullMQ's: see the workers). */
  state: Redis;
  prefix: string;
  /** The `deliveries` queue (a producer: only `add` is used). */
  deliveries: Queue;
  /** The current subscriptions; a getter so changes apply to the next alert. */
  subscriptions: () => readonly Subscription[];
  /** BullMQ attempts of a delivery job (the configured retry schedule's). */
  attempts?: number;
  /** Send `alert.updated` to webhook channels when a delivered story gains a source. Default true. */
  sendUpdates?: boolean;
  /** Clock for digest windows (tests). */
  now?: () => Date;
  /**
   * Whether first deliveries routed together may share a `deliver-batch` job: every live notifier
   * reads them (a shape gate). Default always; false queues one `deliver` job per delivery.
   */
  batchDeliveries?: (() => boolean) & { ready?: Promise<void> };
}

/** Routes alerts to delivery jobs; the same code wherever it runs. */
export interface AlertRouter {
  route(alert: Alert): Promise<RouteOutcome>;
  /** Routes the alerts of one batch of items together (see `routeAlerts`). */
  routeMany(alerts: readonly Alert[]): Promise<RouteOutcome>;
  /** The routing index of the current subscriptions (rebuilt when the getter returns a new array). */
  index(): RoutingIndex;
}

/**
 * `routeAlert` wired to Redis and the `deliveries` queue: the routing index (rebuilt when the
 * subscriptions change), the "queued" marks, digest buckets, and the delivery log and story size
 * for `alert.updated`. The classifier routes each alert it makes with this, in the job that made
 * it; the notifier uses it for `alerts` jobs queued by an older classifier.
 */
export function createAlertRouter(deps: AlertRouterDeps): AlertRouter {
  const { state, prefix } = deps;
  const now = deps.now ?? (() => new Date());
  const attempts = deps.attempts ?? DELIVERY_ATTEMPTS;
  const alerts = new AlertStore(state, { prefix });
  const deliveryLog = new DeliveryLog(state, prefix);
  const digests = new DigestBucket(state, prefix);
  const queuedKey = (id: string) => stateKey(prefix, 'queued', id);
  // The marks of one event-loop turn (every alert of a batch, concurrent jobs) share one write.
  const tick = tickPipelineOf(state);
  let indexed: { source: readonly Subscription[]; index: RoutingIndex } | undefined;
  const index = () => {
    const source = deps.subscriptions();
    if (indexed?.source !== source) indexed = { source, index: buildRoutingIndex(source) };
    return indexed.index;
  };
  // First deliveries routed together go out in `deliver-batch` jobs (see batch.ts).
  const enqueue = async (jobs: NotifierDeliveryJob[]) => {
    await deps.batchDeliveries?.ready;
    const entries = deliveryEntries(jobs, attempts, { batch: deps.batchDeliveries?.() ?? true });
    if (entries.length === 1) await deps.deliveries.add(entries[0]!.name, entries[0]!.data, entries[0]!.opts);
    else if (entries.length > 1) await deps.deliveries.addBulk(entries);
  };
  const updates =
    (deps.sendUpdates ?? true)
      ? {
          deliveredSources: (id: string) => deliveryLog.deliveredSources(id),
          storySize: (storyId: string) => alerts.storySize(storyId),
        }
      : undefined;
  const routeDeps: RouteAlertDeps = {
    match: (a) => index().matchSubscriptions(a),
    isQueued: async (id) => (await tick.run<number>((p) => p.exists(queuedKey(id)))) === 1,
    claim: createClaimBatcher(state, prefix),
    enqueue,
    markQueued: async (id) => {
      await tick.run((p) => p.set(queuedKey(id), '1', 'EX', QUEUED_MARK_SECONDS));
    },
    addToDigest: (subscriptionId, storyId) => digests.add(subscriptionId, storyId, now().getTime()),
    ...(updates ? { updates } : {}),
  };
  return {
    index,
    route: (alert) => routeAlerts([alert], routeDeps),
    routeMany: (alerts) => routeAlerts(alerts, routeDeps),
  };
}
