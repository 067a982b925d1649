import { type Alert, feedSourceUrl, type SourceIncident } from '@regwatch/contracts';
import type {
  AlertStore,
  CatalogStore,
  FeedState,
  FeedStateStore,
  SourceCadence,
  SourceIncidentStore,
} from '@regwatch/store';
import { type FileCatalog, readCatalog } from '../domain/catalog-view.js';

/** One feed's health as the console and /metrics show it. */
export interface FeedHealth {
  id: string;
  title?: string;
  url: string;
  enabled: boolean;
  intervalSeconds: number;
  /** `ok`: last poll succeeded; `failing`: it did not; `never`: not polled yet; `disabled`. */
  status: 'ok' | 'failing' | 'never' | 'disabled';
  state: FeedState;
  /** Open source alarms (silent, empty, failing), oldest first; empty without a `sourceHealth` store. */
  incidents: SourceIncident[];
  /** The learnt cadence, once enough new items were seen. */
  cadence?: SourceCadence;
  lastArrivalAt?: string;
}

/** A feed's open incidents (oldest first), learnt cadence and last arrival, as the api shows them. */
export async function readSourceAlarms(
  store: SourceIncidentStore,
  feedId: string,
): Promise<{ incidents: SourceIncident[]; cadence?: SourceCadence; lastArrivalAt?: string }> {
  const h = await store.get(feedId);
  const incidents = [h.open.failing, h.open.empty, h.open.silent]
    .filter((i): i is SourceIncident => i !== undefined)
    .sort((a, b) => a.openedAt.localeCompare(b.openedAt));
  return {
    incidents,
    ...(h.cadence ? { cadence: h.cadence } : {}),
    ...(h.lastArrivalAt ? { lastArrivalAt: h.lastArrivalAt } : {}),
  };
}

/** Every feed the workers run (file and API), with the poller's state for it. */
export async function readFeedHealth(
  catalog: CatalogStore,
  file: FileCatalog,
  feedState: FeedStateStore,
  sourceHealth?: SourceIncidentStore,
): Promise<FeedHealth[]> {
  const feeds = (await readCatalog(catalog, file)).feeds();
  return Promise.all(
    feeds.map(async ({ item }) => {
      const [state, alarms] = await Promise.all([
        feedState.get(item.id),
        sourceHealth ? readSourceAlarms(sourceHealth, item.id) : { incidents: [] },
      ]);
      const status: FeedHealth['status'] = !item.enabled
        ? 'disabled'
        : state.lastAttemptAt === undefined
          ? 'never'
          : state.consecutiveFailures > 0
            ? 'failing'
            : 'ok';
      return {
        id: item.id,
        ...(item.title !== undefined ? { title: item.title } : {}),
        url: feedSourceUrl(item),
        enabled: item.enabled,
        intervalSeconds: item.intervalSeconds,
        status,
        state,
        ...alarms,
      };
    }),
  );
}

/** At most this many alerts are read per request: the chart and /metrics stay cheap on a busy day. */
export const MAX_ALERTS_SCANNED = 5_000;

/** Alerts created since `sinceMs`, newest first, read in pages through the store (bounded). */
export async function readRecentAlerts(alerts: AlertStore, sinceMs: number): Promise<Alert[]> {
  const out: Alert[] = [];
  const seen = new Set<string>();
  let before: number | undefined;
  while (out.length < MAX_ALERTS_SCANNED) {
    const page = await alerts.list({ limit: 500, ...(before !== undefined ? { before } : {}) });
    let added = 0;
    for (const alert of page) {
      if (Date.parse(alert.createdAt) < sinceMs) return out;
      if (seen.has(alert.id)) continue;
      seen.add(alert.id);
      out.push(alert);
      added++;
    }
    const last = page.at(-1);
    if (page.length < 500 || !last || added === 0) break;
    // `before` is exclusive: step back to just after the last alert's millisecond so alerts sharing
    // it are not skipped; the ones already read are dropped by id.
    before = Date.parse(last.createdAt) + 1;
  }
  return out;
}

/** Alerts per topic per UTC day, oldest day first; `days` includes today. */
export function alertVolumeByTopic(
  alerts: readonly Alert[],
  days: number,
  now = Date.now(),
): { days: string[]; topics: Map<string, number[]> } {
  const today = Math.floor(now / 86_400_000);
  const dayLabels = Array.from({ length: days }, (_, i) =>
    new Date((today - days + 1 + i) * 86_400_000).toISOString().slice(0, 10),
  );
  const topics = new Map<string, number[]>();
  for (const alert of alerts) {
    const index = Math.floor(Date.parse(alert.createdAt) / 86_400_000) - (today - days + 1);
    if (index < 0 || index >= days) continue;
    for (const topic of alert.topics.length > 0 ? alert.topics : ['(none)']) {
      const row = topics.get(topic) ?? new Array<number>(days).fill(0);
      row[index] = (row[index] ?? 0) + 1;
      topics.set(topic, row);
    }
  }
  return { days: dayLabels, topics };
}
