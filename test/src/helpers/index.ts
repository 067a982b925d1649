export { type FeedServer, startFeedServer } from './feed-server.js';
export { deletePrefix, TEST_REDIS_URL, testPrefix, testRedis } from './redis.js';
export { type ReceivedMail, type SmtpSink, startSmtpSink } from './smtp-sink.js';
export { type Pipeline, type PipelineOptions, startPipeline } from './start-pipeline.js';
export { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver, waitUntil } from './webhook-receiver.js';
export { CUSTOMS_STORY, GPU_REVIEW, renderRss, type WireStory } from './wire.js';
