export { benchDeliveries, type DeliveryBenchResult } from './bench/deliveries.js';
export { createMailer, sendEmail } from './delivery/email.js';
export {
  DEFAULT_ENDPOINT_LIMITS,
  EndpointLimiter,
  type EndpointLimits,
  endpointOf,
} from './delivery/endpoint-limiter.js';
export {
  DELIVERY_BACKOFF_MS,
  deliveryBackoffStrategy,
  nextDelayMs,
  type RetrySchedule,
  retryScheduleOf,
} from './delivery/retry.js';
export { signUnsubscribeToken, verifyUnsubscribeToken } from './delivery/unsubscribe-token.js';
export { buildDigestEvent, buildWebhookEvent, sendWebhook } from './delivery/webhook.js';
export {
  type WebhookEventType,
  type WebhookPayload,
  WebhookPayloadSchema,
  webhookPayloadJsonSchema,
} from './delivery/webhook-payload.js';
export { type CollectDigestOutcome, collectDigest } from './digest/collect-digest.js';
export { DigestBucket } from './digest/digest-bucket.js';
export { DEFAULT_DIGEST, digestRepeatOf, syncDigestSchedules } from './digest/schedule.js';
export {
  deliveryJobOptions,
  enableChannel,
  type NotifierAdminDeps,
  notifierStores,
  replayDeadLetter,
} from './notify/admin.js';
export { batchJobId, type DeliveryBatchJob, DeliveryBatchJobSchema, deliveryEntries } from './notify/batch.js';
export { type ChannelHealth, ChannelHealthStore } from './notify/channel-health.js';
export { alertJobFor, contactsOf, type DeliverDeps, deliver } from './notify/deliver.js';
export { firstAttemptOf, JOB_NAMES, type NotifierDeliveryJob, NotifierDeliveryJobSchema } from './notify/jobs.js';
export { channelKey, deliveryIdFor, digestDeliveryIdFor, updateDeliveryIdFor } from './notify/keys.js';
export { type RouteAlertDeps, routeAlert, routeAlerts } from './notify/route-alert.js';
export { type OpsChannels, opsChannelsFromEnv } from './ops/ops-channel.js';
export { buildOpsWebhookEvent, type OpsWebhookEvent, OpsWebhookEventSchema, opsDeliveryId } from './ops/ops-event.js';
export { OPS_JOB_NAMES, type OpsWorkerDeps, startOpsWorker } from './ops/ops-worker.js';
export { renderOpsEmail } from './ops/render-ops-email.js';
export { renderAlertEmail } from './render/alert-email.js';
export { renderChannelDisabledEmail } from './render/channel-disabled-email.js';
export { renderDigestEmail } from './render/digest-email.js';
export { benchRouting } from './routing/bench.js';
export { seededRng } from './routing/population.js';
export { buildRoutingIndex, explainMatch, type RoutingIndex } from './routing/routing-index.js';
export { type Notifier, type NotifierDeps, startNotifier } from './worker.js';
