import type { Alert, AlertIdentifier, Classification, FeedItem } from '@regwatch/contracts';

/** The alert keeps kind and value only (once each): it is stored in Redis and sent in every payload. */
function alertIdentifiers(classification: Classification): AlertIdentifier[] {
  const seen = new Set<string>();
  const out: AlertIdentifier[] = [];
  for (const { kind, value } of classification.identifiers ?? []) {
    const key = `${kind}:${value}`;
    if (seen.has(key) || out.length >= 32) continue;
    seen.add(key);
    out.push({ kind, value });
  }
  return out;
}

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
    identifiers: alertIdentifiers(classification),
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
