import {
  type Alert,
  type AlertIdentifier,
  type AlertSource,
  type Evidence,
  type Jurisdiction,
  PermanentError,
  rankSeverity,
  type Severity,
  type Topic,
} from '@regwatch/contracts';

/** One story as delivered: every alert (source) of it merged, with the first-seen alert as its face. */
export interface Story {
  /** The first alert seen for the story: its id, title, summary, url and evidence are the story's. */
  primary: Alert;
  alerts: readonly Alert[];
  storyId: string;
  /** Every source of every alert, once each (by feed and item), oldest first. */
  sources: AlertSource[];
  topics: Topic[];
  jurisdictions: Jurisdiction[];
  /** Entities of all alerts, once each ignoring case, in the spelling first seen. */
  entities: string[];
  /** The highest severity of any alert of the story. */
  severity: Severity;
  /** When the story last changed: the newest alert's `createdAt`. */
  updatedAt: string;
  /** Evidence on the primary alert's title and summary (offsets refer to those texts). */
  evidence: Evidence[];
  /** Trade-control identifiers of all alerts, once each (kind and value), the primary's first. */
  identifiers: AlertIdentifier[];
}

function byTime(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isNaN(ta) || Number.isNaN(tb) || ta === tb) return a < b ? -1 : a > b ? 1 : 0;
  return ta - tb;
}

/**
 * Merges the alerts of one story (the same story seen through several feeds or outlets).
 * The earliest alert stays the story's face so its id is stable between `alert.created` and
 * later `alert.updated` deliveries; topics, jurisdictions, entities and sources are the union.
 * @throws PermanentError `STORY_EMPTY` for no alerts, `STORY_MIXED` when storyIds differ.
 */
export function mergeStory(alerts: readonly Alert[]): Story {
  if (alerts.length === 0) throw new PermanentError('STORY_EMPTY', 'a story needs at least one alert');
  const storyId = alerts[0]!.storyId;
  if (alerts.some((a) => a.storyId !== storyId)) {
    throw new PermanentError('STORY_MIXED', `alerts of different stories were merged (expected storyId ${storyId})`);
  }
  const sorted = [...alerts].sort(
    (a, b) => byTime(a.createdAt, b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const primary = sorted[0]!;

  const sources = new Map<string, AlertSource>();
  const topics = new Set<Topic>();
  const jurisdictions = new Set<Jurisdiction>();
  const entities = new Map<string, string>();
  const identifiers = new Map<string, AlertIdentifier>();
  let severity: Severity = primary.severity;
  for (const a of sorted) {
    for (const s of a.sources) {
      const key = `${s.feedId}\u0000${s.itemId}`;
      if (!sources.has(key)) sources.set(key, s);
    }
    for (const t of a.topics) topics.add(t);
    for (const j of a.jurisdictions) jurisdictions.add(j);
    for (const e of a.entities) if (!entities.has(e.toLowerCase())) entities.set(e.toLowerCase(), e);
    for (const id of a.identifiers ?? []) {
      const key = `${id.kind}:${id.value}`;
      if (!identifiers.has(key)) identifiers.set(key, { kind: id.kind, value: id.value });
    }
    if (rankSeverity(a.severity) > rankSeverity(severity)) severity = a.severity;
  }
  return {
    primary,
    alerts: sorted,
    storyId,
    sources: [...sources.values()].sort((a, b) => byTime(a.published, b.published)),
    topics: [...topics],
    jurisdictions: [...jurisdictions],
    entities: [...entities.values()],
    severity,
    updatedAt: sorted[sorted.length - 1]!.createdAt,
    evidence: primary.evidence,
    identifiers: [...identifiers.values()].slice(0, 32),
  };
}
