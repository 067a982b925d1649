import { type OpsEventJob, PermanentError } from '@regwatch/contracts';
import type { RenderedEmail } from '../render/email-parts.js';
import type { OpsChannels } from './ops-channel.js';
import { buildOpsWebhookEvent, type OpsWebhookEvent, opsDeliveryId } from './ops-event.js';
import { renderOpsEmail } from './render-ops-email.js';

/** How a notice leaves: the notifier's own email and webhook delivery, passed in. */
export interface SendOpsNoticeDeps {
  channels: OpsChannels;
  sendEmail(input: { to: readonly string[]; deliveryId: string; message: RenderedEmail }): Promise<unknown>;
  sendWebhook(input: {
    url: string;
    secrets: readonly string[];
    deliveryId: string;
    event: OpsWebhookEvent;
  }): Promise<unknown>;
}

/**
 * Sends one ops notice to one channel, once per call: retries are the caller's (the ops queue
 * uses the delivery retry schedule). Every retry carries the same delivery id (`webhook-id`,
 * Message-ID) so a receiver that saw it already can drop the duplicate.
 * @throws PermanentError `OPS_CHANNEL_UNSET` when the channel was removed from the config since.
 */
export async function sendOpsNotice(
  job: OpsEventJob,
  channel: 'email' | 'webhook',
  deps: SendOpsNoticeDeps,
): Promise<{ channel: 'email' | 'webhook'; deliveryId: string }> {
  const deliveryId = opsDeliveryId(job);
  if (channel === 'email') {
    const email = deps.channels.email;
    if (!email) throw new PermanentError('OPS_CHANNEL_UNSET', 'REGWATCH_OPS_EMAIL is no longer set');
    await deps.sendEmail({ to: email.to, deliveryId, message: renderOpsEmail(job) });
  } else {
    const webhook = deps.channels.webhook;
    if (!webhook) throw new PermanentError('OPS_CHANNEL_UNSET', 'REGWATCH_OPS_WEBHOOK_URL is no longer set');
    await deps.sendWebhook({
      url: webhook.url,
      secrets: [webhook.secret],
      deliveryId,
      event: buildOpsWebhookEvent(job),
    });
  }
  return { channel, deliveryId };
}
