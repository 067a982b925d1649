export { AlertStore, type AlertStoreOptions } from './alert-store.js';
export {
  applySubscriptionState,
  type CatalogSnapshot,
  type CatalogSource,
  CatalogStore,
  catalogChannel,
  createLiveCatalog,
  type LiveCatalog,
  type LiveCatalogOptions,
  mergeFeeds,
  mergeSubscriptions,
  type Unsubscribed,
} from './catalog.js';
export {
  type DeadLetter,
  type DeadLetterInput,
  DeadLetterSchema,
  DeadLetterStore,
  type DeadLetterStoreOptions,
} from './dead-letters.js';
export { type AttemptMeta, DeliveryLog, type DeliveryRecord, type DeliveryStatus } from './delivery-log.js';
export { ENTRY_MEMO_TTL_SECONDS, type FeedState, FeedStateStore } from './feed-state-store.js';
export {
  initialSourceHealth,
  type SourceCadence,
  SourceCadenceSchema,
  type SourceHealth,
  SourceHealthSchema,
  SourceIncidentStore,
  type SourceIncidentStoreOptions,
} from './source-incidents.js';
