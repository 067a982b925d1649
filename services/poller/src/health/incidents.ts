import type { SourceIncident, SourceIncidentKind, SourceIncidentTransition } from '@regwatch/contracts';
import type { SourceHealth } from '@regwatch/store';
import { formatDuration, learnCadence, type SilenceThresholds } from './cadence.js';

/** What one poll showed, as far as the alarms care. A poll skipped (backoff, lock, busy host) is no observation. */
export type PollObservation =
  | { kind: 'ok'; items: number; newItems: number }
  /** 304: the document is the one parsed last time, so it holds as many items as then. */
  | { kind: 'not-modified' }
  | { kind: 'failed'; error: string };

export interface IncidentThresholds {
  silence: SilenceThresholds;
  /** Failed polls in a row that open `failing`. */
  failingAfter: number;
  /** Successful polls in a row with zero items (from a source that had some) that open `empty`. */
  emptyAfter: number;
  /** Good polls in a row that resolve `failing` (successes) or `empty` (polls with items). */
  recoverAfter: number;
}

export const DEFAULT_INCIDENT_THRESHOLDS: IncidentThresholds = {
  silence: { multiplier: 4, floorMs: 6 * 3600_000 },
  failingAfter: 3,
  emptyAfter: 2,
  recoverAfter: 2,
};

export interface IncidentChange {
  transition: SourceIncidentTransition;
  incident: SourceIncident;
}

export interface EvaluateInput {
  feedId: string;
  previous: SourceHealth;
  observation: PollObservation;
  /** Arrival times known before this poll (epoch ms, any order); this poll's arrival is added here. */
  arrivalsMs: readonly number[];
  now: Date;
  thresholds?: IncidentThresholds;
  /**
   * Whether a poll's item count says what the source lists (default true). False for a `page`
   * source: it yields an item only when its region changed, so zero is its normal answer (a
   * region that vanished fails the poll with FEED_PARSE instead, which is `failing`).
   */
  hasItemList?: boolean;
}

export interface EvaluateResult {
  next: SourceHealth;
  changes: IncidentChange[];
  /** Set when this poll found new items: the arrival to record. */
  arrivalAtMs?: number;
}

/**
 * Decides, from a source's previous alarm state and one poll, which incidents open and which
 * resolve. Pure: the clock and the history are passed in.
 *
 * - `failing` opens after `failingAfter` failed polls in a row and resolves after `recoverAfter`
 *   successes in a row.
 * - `empty` opens after `emptyAfter` successful polls in a row without a single item, for a source
 *   that had items before; it resolves after `recoverAfter` polls with items. A 304 repeats the
 *   last document's count, so an unchanged empty page keeps counting and a fixed page that then
 *   stays unchanged still recovers.
 * - `silent` is checked on every successful poll, 304 included, once a cadence is learnt (see
 *   `learnCadence`): it opens when the time since the last new item exceeds
 *   max(multiplier × p90 gap, floor), unless `failing` or `empty` already explains the quiet; the
 *   next new item resolves it.
 * Each incident opens once and resolves once: an open one is never re-opened.
 */
export function evaluatePoll(input: EvaluateInput): EvaluateResult {
  const t = input.thresholds ?? DEFAULT_INCIDENT_THRESHOLDS;
  const nowMs = input.now.getTime();
  const nowIso = input.now.toISOString();
  const prev = input.previous;
  const next: SourceHealth = { ...prev, open: { ...prev.open }, pending: [...prev.pending], lastCheckedAt: nowIso };
  const changes: IncidentChange[] = [];
  const obs = input.observation;
  let arrivalAtMs: number | undefined;

  if (obs.kind === 'failed') {
    next.failStreak = prev.failStreak + 1;
    next.okStreak = 0;
    next.lastError = obs.error.slice(0, 500);
  } else {
    next.failStreak = 0;
    next.okStreak = prev.okStreak + 1;
    const isCounted = input.hasItemList ?? true;
    const items = !isCounted ? undefined : obs.kind === 'ok' ? obs.items : prev.lastItems;
    if (obs.kind === 'ok' && isCounted) next.lastItems = obs.items;
    if (items !== undefined) {
      if (items > 0) {
        next.hasYielded = true;
        next.yieldStreak = prev.yieldStreak + 1;
        next.emptyStreak = 0;
      } else {
        next.emptyStreak = prev.emptyStreak + 1;
        next.yieldStreak = 0;
      }
    }
    if (obs.kind === 'ok' && obs.newItems > 0) {
      arrivalAtMs = nowMs;
      next.lastArrivalAt = nowIso;
    }
  }

  const arrivals = arrivalAtMs === undefined ? input.arrivalsMs : [...input.arrivalsMs, arrivalAtMs];
  const cadence = learnCadence(arrivals, t.silence);
  if (cadence) next.cadence = cadence;
  else delete next.cadence;
  // The history may outlive the state (or the other way round): the newest arrival counts.
  const lastArrivalMs = Math.max(
    next.lastArrivalAt ? Date.parse(next.lastArrivalAt) : Number.NEGATIVE_INFINITY,
    ...arrivals,
  );
  if (Number.isFinite(lastArrivalMs)) next.lastArrivalAt = new Date(lastArrivalMs).toISOString();

  const open = (kind: SourceIncidentKind, detail: string) => {
    const incident: SourceIncident = {
      id: `${input.feedId}-${kind}-${nowMs}`,
      feedId: input.feedId,
      kind,
      openedAt: nowIso,
      detail: detail.slice(0, 500),
    };
    next.open[kind] = incident;
    changes.push({ transition: 'opened', incident });
  };
  const resolve = (kind: SourceIncidentKind) => {
    const incident = next.open[kind];
    if (!incident) return;
    delete next.open[kind];
    changes.push({ transition: 'resolved', incident: { ...incident, resolvedAt: nowIso } });
  };

  // failing
  if (!next.open.failing && next.failStreak >= t.failingAfter) {
    open('failing', `${next.failStreak} polls in a row failed; the last with ${next.lastError ?? 'an error'}`);
  } else if (next.open.failing && next.okStreak >= t.recoverAfter) {
    resolve('failing');
  }

  // empty
  if (!next.open.empty && next.hasYielded && next.emptyStreak >= t.emptyAfter) {
    open(
      'empty',
      `the last ${next.emptyStreak} polls found no item in the document, which used to list some: check the selectors or the page layout`,
    );
  } else if (next.open.empty && next.yieldStreak >= t.recoverAfter) {
    resolve('empty');
  }

  // silent
  if (next.open.silent && arrivalAtMs !== undefined) {
    resolve('silent');
  } else if (
    !next.open.silent &&
    obs.kind !== 'failed' &&
    cadence &&
    Number.isFinite(lastArrivalMs) &&
    !next.open.failing &&
    !next.open.empty
  ) {
    const quietMs = nowMs - lastArrivalMs;
    if (quietMs > cadence.silentAfterMs) {
      open(
        'silent',
        `no new item for ${formatDuration(quietMs)}; it usually brings one every ${formatDuration(cadence.p50Ms)} (p90 ${formatDuration(cadence.p90Ms)}, alarm after ${formatDuration(cadence.silentAfterMs)})`,
      );
    }
  }

  return { next, changes, ...(arrivalAtMs !== undefined ? { arrivalAtMs } : {}) };
}

/** The thresholds from the parsed environment (`REGWATCH_SOURCE_*`; defaults in docs/config.md). */
export function incidentThresholdsFromEnv(env: {
  REGWATCH_SOURCE_SILENT_MULTIPLIER: number;
  REGWATCH_SOURCE_SILENT_FLOOR_HOURS: number;
  REGWATCH_SOURCE_FAILING_AFTER: number;
  REGWATCH_SOURCE_EMPTY_AFTER: number;
  REGWATCH_SOURCE_RECOVER_AFTER: number;
}): IncidentThresholds {
  return {
    silence: {
      multiplier: env.REGWATCH_SOURCE_SILENT_MULTIPLIER,
      floorMs: env.REGWATCH_SOURCE_SILENT_FLOOR_HOURS * 3600_000,
    },
    failingAfter: env.REGWATCH_SOURCE_FAILING_AFTER,
    emptyAfter: env.REGWATCH_SOURCE_EMPTY_AFTER,
    recoverAfter: env.REGWATCH_SOURCE_RECOVER_AFTER,
  };
}
