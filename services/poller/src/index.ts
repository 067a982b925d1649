export * as feed from './feed/index.js';
export { type PollDeps, type PollOutcome, pollFeed } from './poll/poll-feed.js';
export { SeenStore } from './poll/seen-store.js';
export { syncSchedules } from './schedule.js';
export { type PollerDeps, type PollerHandle, startPoller } from './worker.js';
