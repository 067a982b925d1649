import type { Alert, Classification, FeedItem } from '@regwatch/contracts';

/** Builds the alert for a flagged item: the item's facts, the classification, its first source. */
export function toAlert(item: FeedItem, classification: Classification, now: Date): Alert {
  return {
    id: `a-${item.id}`,
    storyId: classification.storyId,
    itemId: item.id,
    feedId: item.feedId,
    title: item.title,
    ...(item.url ? { url: item.url } : {}),
    summary: item.summary,
    published: item.published,
    score: classification.score,
    severity: classification.severity,
    topics: classification.topics,
    jurisdictions: classification.jurisdictions,
    entities: classification.entities,
    evidence: classification.evidence,
    rulesVersion: classification.rulesVersion,
    sources: [
      {
        feedId: item.feedId,
        itemId: item.id,
        ...(item.url ? { url: item.url } : {}),
        title: item.title,
        published: item.published,
      },
    ],
    fetchedAt: item.fetchedAt,
    createdAt: now.toISOString(),
  };
}
