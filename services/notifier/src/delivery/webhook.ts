import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Alert } from '@regwatch/contracts';
import {
  PermanentError,
  RateLimitedError,
  RegwatchError,
  RetryableError,
  rankSeverity,
  type Severity,
} from '@regwatch/contracts';
import { type AddressPolicy, request } from '@regwatch/outbound';
import type { OpsWebhookEvent } from '../ops/ops-event.js';
import { mergeStory, type Story } from '../render/story.js';
import { withAttemptInfo } from './attempt-info.js';
import { MAX_RETRY_AFTER_MS } from './retry.js';
import type {
  WebhookAlert,
  WebhookAlertEvent,
  WebhookAlertEventType,
  WebhookDigestEvent,
  WebhookPayload,
} from './webhook-payload.js';

/** A webhook event: what is serialized as the request body (subscriber payloads, or an ops channel's source incident). */
export type WebhookEvent = WebhookPayload | OpsWebhookEvent;

export interface BuildWebhookEventOptions {
  /** `matchedBy` of the routing match; sent as `data.why`. */
  why?: readonly string[];
  /** The severity for this subscription (routing may raise it for a watch term); default the story's. */
  severity?: Severity;
  /**
   * Whether this subscription already got the story. The caller knows (it keeps the delivery
   * records); without it, a story with more than one alert is taken as an update.
   */
  type?: WebhookAlertEventType;
}

/** What `webhook-id` may be: the spec gives no grammar, but it travels in an HTTP header and receivers key on it. */
const DELIVERY_ID_RE = /^[\x21-\x7e]{1,255}$/;

/**
 * Builds the webhook body for one story (all its alerts, one per source) for one subscription.
 * The body depends only on the story and the options, never on the time of sending, so every
 * retry of a delivery sends the same bytes; `timestamp` is when the story last changed.
 * @param deliveryId the delivery it is for; checked here to be usable as `webhook-id` so a bad id fails before sending.
 * @throws PermanentError `STORY_EMPTY`/`STORY_MIXED` (see mergeStory), `WEBHOOK_BAD_ID`.
 */
export function buildWebhookEvent(
  alerts: readonly Alert[],
  deliveryId: string,
  opts: BuildWebhookEventOptions = {},
): WebhookAlertEvent {
  checkDeliveryId(deliveryId);
  const story = mergeStory(alerts);
  const timestamp = new Date(Date.parse(story.updatedAt));
  return {
    type: opts.type ?? (story.alerts.length > 1 ? 'alert.updated' : 'alert.created'),
    timestamp: Number.isNaN(timestamp.getTime()) ? new Date(0).toISOString() : timestamp.toISOString(),
    data: webhookAlert(story, opts),
  };
}

function webhookAlert(story: Story, opts: { why?: readonly string[]; severity?: Severity }): WebhookAlert {
  const p = story.primary;
  return {
    id: p.id,
    storyId: story.storyId,
    title: p.title,
    ...(p.url !== undefined ? { url: p.url } : {}),
    summary: p.summary,
    published: p.published,
    severity: opts.severity ?? story.severity,
    topics: story.topics,
    jurisdictions: story.jurisdictions,
    entities: story.entities,
    evidence: story.evidence,
    sources: story.sources,
    identifiers: story.identifiers,
    why: [...(opts.why ?? [])],
  };
}

/** One story of a digest, as routing matched it for the subscription. */
export interface DigestStoryInput {
  alerts: readonly Alert[];
  why?: readonly string[];
  severity?: Severity;
}

/** Stories an `alert.digest` body lists at most; `total` still counts them all. */
export const DIGEST_WEBHOOK_MAX_STORIES = 100;

/**
 * Builds the `alert.digest` body: the window's stories, most severe first, then newest, each as in
 * `alert.created`. Depends only on its input, so every retry sends the same bytes.
 * @param total stories in the window, when more were collected than are passed (default: those passed).
 * @throws PermanentError `WEBHOOK_BAD_ID`, or `STORY_EMPTY`/`STORY_MIXED` for a bad story.
 */
export function buildDigestEvent(
  stories: readonly DigestStoryInput[],
  deliveryId: string,
  digest: { subscriptionId: string; window: { from: string; to: string }; total?: number },
): WebhookDigestEvent {
  checkDeliveryId(deliveryId);
  const items = stories.map((s) => ({ story: mergeStory(s.alerts), input: s }));
  items.sort(
    (a, b) =>
      rankSeverity(b.input.severity ?? b.story.severity) - rankSeverity(a.input.severity ?? a.story.severity) ||
      Date.parse(b.story.primary.published) - Date.parse(a.story.primary.published) ||
      (a.story.storyId < b.story.storyId ? -1 : a.story.storyId > b.story.storyId ? 1 : 0),
  );
  return {
    type: 'alert.digest',
    timestamp: new Date(Date.parse(digest.window.to)).toISOString(),
    data: {
      subscriptionId: digest.subscriptionId,
      window: {
        from: new Date(Date.parse(digest.window.from)).toISOString(),
        to: new Date(Date.parse(digest.window.to)).toISOString(),
      },
      total: Math.max(digest.total ?? 0, items.length),
      stories: items.slice(0, DIGEST_WEBHOOK_MAX_STORIES).map((i) => webhookAlert(i.story, i.input)),
    },
  };
}

function checkDeliveryId(deliveryId: string): void {
  if (!DELIVERY_ID_RE.test(deliveryId)) {
    throw new PermanentError('WEBHOOK_BAD_ID', 'deliveryId must be 1–255 printable ASCII characters without spaces');
  }
}

export interface SendWebhookInput {
  url: string;
  /** `whsec_…` secrets; during a rotation, all of them (each one signs; the receiver accepts any it knows). */
  secrets: readonly string[];
  /** Sent as `webhook-id`: the same on every retry, so receivers can drop duplicates. */
  deliveryId: string;
  event: WebhookEvent;
  /** The SSRF guard: where webhooks may go. */
  policy: AddressPolicy;
  /** Whole exchange. Default 10 s. */
  timeoutMs?: number;
  /** Cap on the response body we read (and ignore). Default 64 KiB. */
  maxResponseBytes?: number;
  signal?: AbortSignal;
  /** Clock for `webhook-timestamp` and `Retry-After` dates (ms since epoch); tests inject it. */
  now?: () => number;
}

export interface WebhookResult {
  status: number;
  latencyMs: number;
}

const USER_AGENT = 'regwatch-webhooks/0.1';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
// Statuses that say "not now" rather than "never" (RFC 9110: 408 Request Timeout, 409 Conflict,
// 425 Too Early, 429 Too Many Requests).
const TRY_LATER = new Set([408, 409, 425, 429]);

/**
 * Signs the event as Standard Webhooks specifies and POSTs it once, through the SSRF guard,
 * without following redirects. Maps the outcome onto the error taxonomy:
 * - 2xx → resolves `{ status, latencyMs }`;
 * - 410 → `PermanentError` `WEBHOOK_GONE` (the caller disables the endpoint);
 * - 429 or 503 with `Retry-After` → `RateLimitedError` `WEBHOOK_RATE_LIMITED`;
 * - 408, 409, 425, 429 → `RetryableError` `WEBHOOK_TRY_LATER`; 5xx → `RetryableError` `WEBHOOK_SERVER_ERROR`;
 * - other 4xx → `PermanentError` `WEBHOOK_REJECTED`;
 * - 3xx → `RetryableError` `WEBHOOK_REDIRECT`: not followed (a redirect could lead the signed
 *   body anywhere), but retried, since redirects are often temporary and the team can fix the URL;
 * - timeout → `RetryableError` `WEBHOOK_TIMEOUT`; DNS or connect failure → `RetryableError` `WEBHOOK_CONNECT`;
 * - refused by the SSRF guard or a bad URL → `PermanentError` `WEBHOOK_BLOCKED_ADDRESS` / `WEBHOOK_BAD_URL`.
 * Messages name the host and status only: never the secret, the URL's path (it may hold a token) or a body.
 * Status and latency of a failed attempt are available through `getAttemptInfo(err)`.
 */
export async function sendWebhook(input: SendWebhookInput): Promise<WebhookResult> {
  checkDeliveryId(input.deliveryId);
  if (input.secrets.length === 0) throw new PermanentError('WEBHOOK_NO_SECRET', 'the webhook channel has no secret');
  const host = hostOf(input.url);
  const now = input.now ?? Date.now;
  const body = JSON.stringify(input.event);
  const sentAt = new Date(Math.floor(now() / 1000) * 1000);
  const signatures = input.secrets.map((secret, i) => sign(secret, i, input.deliveryId, sentAt, body));

  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request({
      url: input.url,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': input.deliveryId,
        'webhook-timestamp': String(sentAt.getTime() / 1000),
        'webhook-signature': signatures.join(' '),
      },
      body,
      timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      connectTimeoutMs: Math.min(5_000, input.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      maxBytes: input.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      maxRedirects: 0,
      decompress: false,
      policy: input.policy,
      ...(input.signal ? { signal: input.signal } : {}),
    });
  } catch (err) {
    throw withAttemptInfo(transportError(err, host, input.timeoutMs ?? DEFAULT_TIMEOUT_MS), { latencyMs: elapsed() });
  }
  const latencyMs = res.elapsedMs;
  const status = res.status;
  if (status >= 200 && status < 300) return { status, latencyMs };
  throw withAttemptInfo(statusError(status, res.headers['retry-after'], host, now()), { code: status, latencyMs });
}

// "whsec_" + base64 of the key, as Standard Webhooks specifies (the prefix is optional there).
const SECRET_RE = /^(?:whsec_)?([A-Za-z0-9+/]+={0,2})$/;

/**
 * `v1,<base64 HMAC-SHA256(key, "<id>.<unix seconds>.<body>")>`, the Standard Webhooks signature.
 * Computed with node:crypto rather than the standardwebhooks package's pure-JS HMAC, which cost a
 * few percent of the notifier's CPU per delivery; receivers verify it with any Standard Webhooks
 * library (our tests use standardwebhooks itself).
 */
function sign(secret: string, index: number, id: string, at: Date, body: string): string {
  const key = keyOf(secret);
  // Say which one, never what it is.
  if (key.length === 0) {
    throw new PermanentError('WEBHOOK_BAD_SECRET', `webhook secret #${index + 1} is not a whsec_ base64 secret`);
  }
  const seconds = Math.floor(at.getTime() / 1000);
  // In parts: the same bytes as "<id>.<seconds>.<body>" without copying the body into a new string.
  return `v1,${createHmac('sha256', key).update(`${id}.${seconds}.`).update(body).digest('base64')}`;
}

/** Decoded HMAC keys by secret (empty for a malformed one): a channel's secret is decoded once, not per send. */
const keys = new Map<string, Buffer>();
const MAX_KEYS = 1024;

function keyOf(secret: string): Buffer {
  let key = keys.get(secret);
  if (key === undefined) {
    const m = SECRET_RE.exec(secret);
    key = m ? Buffer.from(m[1]!, 'base64') : Buffer.alloc(0);
    if (keys.size >= MAX_KEYS) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/** Hosts by URL: a channel's URL is parsed once, not on every send (only error messages use the host). */
const hosts = new Map<string, string>();
const MAX_HOSTS = 1024;

function hostOf(url: string): string {
  let host = hosts.get(url);
  if (host === undefined) {
    try {
      host = new URL(url).host || 'the endpoint';
    } catch {
      throw new PermanentError('WEBHOOK_BAD_URL', 'the webhook URL is not a valid URL');
    }
    if (hosts.size >= MAX_HOSTS) hosts.clear();
    hosts.set(url, host);
  }
  return host;
}

/**
 * `Retry-After` in ms: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent,
 * unparseable or not in the future.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  if (!(ms > 0)) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

function statusError(status: number, retryAfter: string | undefined, host: string, nowMs: number): RegwatchError {
  const at = `webhook endpoint ${host} answered ${status}`;
  if (status === 410) return new PermanentError('WEBHOOK_GONE', `${at} (Gone): disable the endpoint`);
  if (status === 429 || status === 503) {
    const wait = parseRetryAfter(retryAfter, nowMs);
    if (wait !== undefined) {
      return new RateLimitedError('WEBHOOK_RATE_LIMITED', `${at}, asked to retry in ${Math.ceil(wait / 1000)} s`, wait);
    }
  }
  if (status >= 300 && status < 400) {
    return new RetryableError(
      'WEBHOOK_REDIRECT',
      `${at} (a redirect, not followed): point the subscription at the final URL`,
    );
  }
  if (TRY_LATER.has(status)) return new RetryableError('WEBHOOK_TRY_LATER', at);
  if (status >= 400 && status < 500)
    return new PermanentError('WEBHOOK_REJECTED', `${at}: the endpoint refused the event`);
  if (status >= 500 && status < 600) return new RetryableError('WEBHOOK_SERVER_ERROR', at);
  return new RetryableError('WEBHOOK_UNEXPECTED_STATUS', at);
}

/** Rewrites `@regwatch/outbound` errors (whose messages carry the full URL) into short ones that name the host. */
function transportError(err: unknown, host: string, timeoutMs: number): RegwatchError {
  const code = err instanceof RegwatchError ? err.code : undefined;
  const errno = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  const why = typeof errno === 'string' && /^E[A-Z_]+$/.test(errno) ? ` (${errno})` : '';
  switch (code) {
    case 'OUTBOUND_TIMEOUT':
      return new RetryableError('WEBHOOK_TIMEOUT', `webhook endpoint ${host} did not answer within ${timeoutMs} ms`);
    case 'OUTBOUND_CONNECT':
    case 'OUTBOUND_DNS':
      return new RetryableError('WEBHOOK_CONNECT', `could not reach webhook endpoint ${host}${why}`);
    case 'OUTBOUND_BLOCKED_ADDRESS':
      return new PermanentError(
        'WEBHOOK_BLOCKED_ADDRESS',
        `webhook endpoint ${host} resolves to an address regwatch may not call (private or reserved)`,
      );
    case 'OUTBOUND_BAD_URL':
      return new PermanentError('WEBHOOK_BAD_URL', `webhook URL for ${host} is not a usable http(s) URL`);
    case 'OUTBOUND_TOO_LARGE':
      // The endpoint may well have taken the event; a retry would only meet the same answer.
      return new PermanentError(
        'WEBHOOK_RESPONSE_TOO_LARGE',
        `webhook endpoint ${host} sent a response body over the limit; answer with a short or empty body`,
      );
    default:
      if (err instanceof PermanentError)
        return new PermanentError(code ?? 'WEBHOOK_FAILED', `webhook to ${host} failed (${code})`);
      return new RetryableError('WEBHOOK_NETWORK', `webhook to ${host} failed${why}`);
  }
}
