import {
  type OpsEventJob,
  SourceIncidentKindSchema,
  type SourceIncidentTransition,
  SourceIncidentTransitionSchema,
} from '@regwatch/contracts';
import { z } from 'zod';

/** Webhook event types of the ops channel; subscriber webhooks never carry them. */
export const OpsWebhookEventTypeSchema = z.enum(['source.incident.opened', 'source.incident.resolved']);
export type OpsWebhookEventType = z.infer<typeof OpsWebhookEventTypeSchema>;

/** The body of an ops webhook: Standard Webhooks shape (`type`, `timestamp`, `data`), signed like alerts. */
export const OpsWebhookEventSchema = z.object({
  type: OpsWebhookEventTypeSchema,
  /** When the poller observed the transition (not when this request was sent). */
  timestamp: z.iso.datetime(),
  data: z.object({
    incidentId: z.string(),
    transition: SourceIncidentTransitionSchema,
    feedId: z.string(),
    feedName: z.string().optional(),
    feedUrl: z.string().optional(),
    kind: SourceIncidentKindSchema,
    openedAt: z.iso.datetime(),
    resolvedAt: z.iso.datetime().optional(),
    detail: z.string(),
  }),
});
export type OpsWebhookEvent = z.infer<typeof OpsWebhookEventSchema>;

const TYPES: Record<SourceIncidentTransition, OpsWebhookEventType> = {
  opened: 'source.incident.opened',
  resolved: 'source.incident.resolved',
};

/** Builds the webhook body from the ops job alone, so every retry sends the same bytes. */
export function buildOpsWebhookEvent(job: OpsEventJob): OpsWebhookEvent {
  const { incident } = job;
  return {
    type: TYPES[job.transition],
    timestamp: job.at,
    data: {
      incidentId: incident.id,
      transition: job.transition,
      feedId: incident.feedId,
      ...(job.feedName !== undefined ? { feedName: job.feedName } : {}),
      ...(job.feedUrl !== undefined ? { feedUrl: job.feedUrl } : {}),
      kind: incident.kind,
      openedAt: incident.openedAt,
      ...(incident.resolvedAt !== undefined ? { resolvedAt: incident.resolvedAt } : {}),
      detail: incident.detail,
    },
  };
}

/** The delivery id of a notice (`webhook-id`, Message-ID): one per incident and transition. */
export function opsDeliveryId(job: Pick<OpsEventJob, 'incident' | 'transition'>): string {
  return `ops-${job.incident.id}-${job.transition}`;
}
