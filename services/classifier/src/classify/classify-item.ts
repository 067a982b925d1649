import type { Alert, Classification, ClassifyInput, FeedItem } from '@regwatch/contracts';
import { toAlert } from './to-alert.js';

export interface ClassifyItemDeps {
  classify: (input: ClassifyInput) => Classification;
  /** Joins the item to a recent near-duplicate's story (syndication, several feeds). */
  assignStory: (statelessStoryId: string) => Promise<string>;
  /** Stores the alert; returns false when it was stored before (a re-delivered job). */
  saveAlert: (alert: Alert) => Promise<boolean>;
  /** Queues the alert for the notifier; idempotent per alert id. */
  publish: (alert: Alert) => Promise<void>;
  now: () => Date;
}

export type ClassifyOutcome = { flagged: false; score: number } | { flagged: true; alertId: string; storyId: string };

/**
 * Classifies one item; a flagged one becomes an alert, stored for history and queued for the
 * notifier. Publishing happens even when the alert was already stored, so a crash between the
 * two steps is repaired by the retry (the alert job id makes it idempotent).
 */
export async function classifyItem(item: FeedItem, deps: ClassifyItemDeps): Promise<ClassifyOutcome> {
  const classification = deps.classify({
    title: item.title,
    summary: item.summary,
    ...(item.url ? { url: item.url } : {}),
    ...(item.lang ? { lang: item.lang } : {}),
  });
  if (!classification.flagged) return { flagged: false, score: classification.score };
  const storyId = await deps.assignStory(classification.storyId);
  const alert = toAlert(item, { ...classification, storyId }, deps.now());
  await deps.saveAlert(alert);
  await deps.publish(alert);
  return { flagged: true, alertId: alert.id, storyId: alert.storyId };
}
