export { AlertStore, type AlertStoreOptions } from './alert-store.js';
export { DeliveryLog } from './delivery-log.js';
export { type FeedState, FeedStateStore } from './feed-state-store.js';
