import type { FeedSource, OpsEventJob } from '@regwatch/contracts';
import type { SourceHealth } from '@regwatch/store';
import {
  DEFAULT_INCIDENT_THRESHOLDS,
  evaluatePoll,
  type IncidentChange,
  type IncidentThresholds,
  type PollObservation,
} from './incidents.js';

/** Everything `observePoll` needs, passed in so it runs without Redis or BullMQ in tests. */
export interface SourceHealthDeps {
  store: {
    load(feedId: string): Promise<{ health: SourceHealth; arrivals: number[] }>;
    save(feedId: string, health: SourceHealth, arrivalAtMs?: number): Promise<void>;
  };
  /** Queues a notice for the ops channel; must be idempotent per {@link opsJobId}. */
  enqueueOps: (jobs: OpsEventJob[]) => Promise<void>;
  thresholds?: IncidentThresholds;
  now: () => Date;
}

/** The ops job id of a transition: one notice per incident and direction, however often it is queued. */
export function opsJobId(job: Pick<OpsEventJob, 'incident' | 'transition'>): string {
  return `ops-${job.incident.id}-${job.transition}`;
}

/**
 * Runs after each poll (200, 304 or failure): updates the source's alarm state, records an
 * arrival when new items came, and queues a notice per incident opened or resolved.
 *
 * The notices are saved with the state as `pending` first and cleared once queued: a crash
 * between the two leaves them pending, and the next poll queues them again under the same job
 * ids, so a notice is neither lost nor sent twice.
 */
export async function observePoll(
  feed: Pick<FeedSource, 'id'> & { type?: string | undefined; title?: string | undefined; url?: string | undefined },
  observation: PollObservation,
  deps: SourceHealthDeps,
): Promise<IncidentChange[]> {
  const { health, arrivals } = await deps.store.load(feed.id);
  const now = deps.now();
  const result = evaluatePoll({
    feedId: feed.id,
    previous: health,
    observation,
    arrivalsMs: arrivals,
    now,
    thresholds: deps.thresholds ?? DEFAULT_INCIDENT_THRESHOLDS,
    hasItemList: feed.type !== 'page',
  });
  const jobs = result.changes.map(
    (c): OpsEventJob => ({
      v: 1,
      transition: c.transition,
      incident: c.incident,
      ...(feed.title ? { feedName: feed.title.slice(0, 200) } : {}),
      ...(feed.url ? { feedUrl: feed.url.slice(0, 2048) } : {}),
      at: now.toISOString(),
    }),
  );
  // Oldest dropped if ever over the cap (a broken ops queue for weeks): the state must stay small.
  const pending = [...result.next.pending, ...jobs].slice(-20);
  await deps.store.save(feed.id, { ...result.next, pending }, result.arrivalAtMs);
  if (pending.length > 0) {
    await deps.enqueueOps(pending);
    await deps.store.save(feed.id, { ...result.next, pending: [] });
  }
  return result.changes;
}
