export { type BenchPollerOptions, type BenchPollerResult, benchPoller } from './bench.js';
export * as feed from './feed/index.js';
export { createFeedList, type FeedList, type ReloadResult } from './feed-list.js';
export { learnCadence, MIN_CADENCE_GAPS } from './health/cadence.js';
export {
  DEFAULT_INCIDENT_THRESHOLDS,
  evaluatePoll,
  type IncidentThresholds,
  incidentThresholdsFromEnv,
  type PollObservation,
} from './health/incidents.js';
export { observePoll, opsJobId } from './health/source-health.js';
export { FeedLock } from './poll/feed-lock.js';
export { HostLimiter, type HostLimiterOptions, hostKey } from './poll/host-limiter.js';
export { failureBackoffMs, type PollDeps, type PollOutcome, pollFeed, seenMembers } from './poll/poll-feed.js';
export { SeenStore } from './poll/seen-store.js';
export { nextSlotAt, scheduleOffsetMs } from './poll/slots.js';
export { POLL_JOB_OPTIONS, SCHEDULER_PREFIX, type SyncResult, syncSchedules } from './schedule.js';
export { feedListHash, type PollerDeps, type PollerHandle, type PollJobOutcome, startPoller } from './worker.js';
