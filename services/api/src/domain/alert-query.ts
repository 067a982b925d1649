import {
  type Alert,
  type AlertIdentifier,
  identifierAncestorKeys,
  identifierKey,
  rankSeverity,
  type Severity,
} from '@regwatch/contracts';
import type { AlertStore } from '@regwatch/store';

/** What `GET /v1/alerts` can filter on; every given dimension must match, within one any value. */
export interface AlertFilter {
  topics?: readonly string[];
  jurisdictions?: readonly string[];
  /** Matched case-insensitively. */
  entities?: readonly string[];
  severities?: readonly Severity[];
  minSeverity?: Severity;
  feedIds?: readonly string[];
  /**
   * Trade-control identifiers, parsed (`parseIdentifierQuery`); an alert matches when it names one
   * of them or anything below it (`3A090` matches `3A090.a`), as subscriptions match.
   */
  identifiers?: readonly AlertIdentifier[];
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Words that must all appear (case-insensitive) in the title, summary or entities. */
  text?: string;
  /** A team's visibility: only alerts one of its subscriptions matches. */
  visible?: (alert: Alert) => boolean;
}

/** A position in the newest-first alert history: the last alert returned (time, then id). */
export interface AlertCursor {
  at: number;
  id: string;
}

export function encodeCursor(cursor: AlertCursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(text: string): AlertCursor | undefined {
  const raw = Buffer.from(text, 'base64url').toString('utf8');
  const bar = raw.indexOf('|');
  const at = Number(raw.slice(0, bar));
  if (bar < 1 || !Number.isSafeInteger(at) || raw.length - bar < 2) return undefined;
  return { at, id: raw.slice(bar + 1) };
}

export function matchesFilter(alert: Alert, filter: AlertFilter): boolean {
  const any = (wanted: readonly string[] | undefined, have: readonly string[]) =>
    !wanted || wanted.length === 0 || wanted.some((w) => have.includes(w));
  if (!any(filter.topics, alert.topics)) return false;
  if (!any(filter.jurisdictions, alert.jurisdictions)) return false;
  if (!any(filter.feedIds, [alert.feedId, ...alert.sources.map((s) => s.feedId)])) return false;
  if (filter.entities && filter.entities.length > 0) {
    const have = alert.entities.map((e) => e.toLowerCase());
    if (!filter.entities.some((e) => have.includes(e.toLowerCase()))) return false;
  }
  if (filter.identifiers && filter.identifiers.length > 0) {
    const wanted = new Set(filter.identifiers.map(identifierKey));
    const named = (alert.identifiers ?? []).some((id) => identifierAncestorKeys(id).some((k) => wanted.has(k)));
    if (!named) return false;
  }
  if (filter.severities && filter.severities.length > 0 && !filter.severities.includes(alert.severity)) return false;
  if (filter.minSeverity && rankSeverity(alert.severity) < rankSeverity(filter.minSeverity)) return false;
  if (filter.text) {
    const haystack = `${alert.title}\n${alert.summary}\n${alert.entities.join('\n')}`.toLowerCase();
    const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.every((w) => haystack.includes(w))) return false;
  }
  return filter.visible ? filter.visible(alert) : true;
}

export interface AlertPage {
  alerts: Alert[];
  /** Pass back as `cursor` for the next page; absent at the end of history (or of `from`). */
  nextCursor?: string;
  /** Alerts read to fill this page. */
  scanned: number;
}

const BATCH = 200;

/**
 * One page of alerts, newest first, filtered. The history's time index is walked in batches and
 * filtered in memory, so memory stays bounded (one batch) and no extra index is kept; a request
 * reads at most `maxScan` alerts. A selective filter over a long history may then return a short
 * (even empty) page with a `nextCursor` to continue from — the page is short, never wrong.
 */
export async function queryAlerts(
  store: AlertStore,
  filter: AlertFilter,
  options: { limit: number; cursor?: AlertCursor; maxScan?: number },
): Promise<AlertPage> {
  const maxScan = options.maxScan ?? 5_000;
  const out: Alert[] = [];
  let position: AlertCursor | undefined = options.cursor;
  if (!position && filter.to !== undefined) position = { at: filter.to - 1, id: '\u{10FFFF}' };
  let scanned = 0;
  let batch = BATCH;
  for (;;) {
    // `before` is exclusive and alerts can share a millisecond: read from the cursor's millisecond
    // and skip what the previous page already returned (same time, id not below the cursor's).
    const after = position;
    const alerts = await store.list({ limit: batch, ...(after ? { before: after.at + 1 } : {}) });
    const fresh = after
      ? alerts.filter((a) => {
          const at = Date.parse(a.createdAt);
          return at < after.at || (at === after.at && a.id < after.id);
        })
      : alerts;
    if (fresh.length === 0) {
      // A whole batch within one millisecond, already returned: read a larger one (the store caps at 500).
      if (alerts.length < batch || batch >= 500) return { alerts: out, scanned };
      batch = 500;
      continue;
    }
    for (const alert of fresh) {
      const at = Date.parse(alert.createdAt);
      if (filter.from !== undefined && at < filter.from) return { alerts: out, scanned };
      scanned++;
      position = { at, id: alert.id };
      if (matchesFilter(alert, filter)) out.push(alert);
      if (out.length >= options.limit || scanned >= maxScan) {
        return { alerts: out, scanned, nextCursor: encodeCursor(position) };
      }
    }
    if (alerts.length < batch) return { alerts: out, scanned };
  }
}
