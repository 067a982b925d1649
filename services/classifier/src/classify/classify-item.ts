import type { Alert, Classification, ClassifyInput, FeedItem } from '@regwatch/contracts';
import { toAlert } from './to-alert.js';

export interface ClassifyItemDeps {
  classify: (input: ClassifyInput) => Classification;
  /** Joins the item to a recent near-duplicate's story (syndication, several feeds). */
  assignStory: (statelessStoryId: string) => Promise<string>;
  /**
   * Stores the alerts of a batch, all in one call (one Redis command for the batch, not one per
   * alert); per alert, false when it was stored before (a re-delivered job).
   */
  saveAlerts: (alerts: Alert[]) => Promise<boolean[]>;
  /** Routes the alerts of one batch to their deliveries; idempotent per alert (deterministic delivery ids). */
  publish: (alerts: Alert[]) => Promise<void>;
  now: () => Date;
}

export type ClassifyOutcome = { flagged: false; score: number } | { flagged: true; alertId: string; storyId: string };

/**
 * Classifies one item; a flagged one becomes an alert, stored for history and routed to the
 * subscriptions that want it. Publishing happens even when the alert was already stored, so a
 * crash between the two steps is repaired by the retry (delivery ids make it idempotent).
 */
export async function classifyItem(item: FeedItem, deps: ClassifyItemDeps): Promise<ClassifyOutcome> {
  const [outcome] = await classifyItems([item], deps);
  return outcome!;
}

/**
 * {@link classifyItem} for the new items of one poll, together: every item is classified, the
 * flagged ones get their stories (in item order, so a copy later in the batch joins the story of
 * one earlier in it), every alert is stored, then all of them are routed in one call. The Redis
 * work of the batch shares round trips. Idempotent per item, so a retried batch — or a batch that
 * overlaps an earlier one after a poller crash — stores and routes nothing twice.
 */
export async function classifyItems(items: readonly FeedItem[], deps: ClassifyItemDeps): Promise<ClassifyOutcome[]> {
  const now = deps.now();
  const classified = items.map((item) => ({
    item,
    classification: deps.classify({
      title: item.title,
      summary: item.summary,
      ...(item.url ? { url: item.url } : {}),
      ...(item.lang ? { lang: item.lang } : {}),
    }),
  }));
  const flagged = classified.filter((c) => c.classification.flagged);
  const storyIds = await Promise.all(flagged.map((c) => deps.assignStory(c.classification.storyId)));
  const alerts = flagged.map((c, i) => toAlert(c.item, { ...c.classification, storyId: storyIds[i]! }, now));
  if (alerts.length > 0) {
    await deps.saveAlerts(alerts);
    await deps.publish(alerts);
  }
  const byItem = new Map(alerts.map((alert) => [alert.itemId, alert]));
  return classified.map(({ item, classification }) => {
    const alert = byItem.get(item.id);
    return alert
      ? { flagged: true, alertId: alert.id, storyId: alert.storyId }
      : { flagged: false, score: classification.score };
  });
}
