import { initialSourceHealth, type SourceHealth } from '@regwatch/store';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INCIDENT_THRESHOLDS, evaluatePoll, type IncidentChange, type PollObservation } from './incidents.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-01-05T09:00:00Z');

/** A source as the store would keep it: state and arrival history, fed one poll at a time. */
function source(feedId = 'mofcom-export-control') {
  let health: SourceHealth = initialSourceHealth();
  let arrivals: number[] = [];
  const log: IncidentChange[] = [];
  return {
    poll(atMs: number, observation: PollObservation): IncidentChange[] {
      const r = evaluatePoll({ feedId, previous: health, observation, arrivalsMs: arrivals, now: new Date(atMs) });
      health = r.next;
      if (r.arrivalAtMs !== undefined) arrivals = [r.arrivalAtMs, ...arrivals].slice(0, 50);
      log.push(...r.changes);
      return r.changes;
    },
    get health() {
      return health;
    },
    log,
  };
}

const ok = (items: number, newItems: number): PollObservation => ({ kind: 'ok', items, newItems });
const notModified: PollObservation = { kind: 'not-modified' };
const failed = (error = 'FEED_PARSE: not a feed'): PollObservation => ({ kind: 'failed', error });
const summary = (changes: IncidentChange[]) => changes.map((c) => `${c.transition}:${c.incident.kind}`);

describe('silent', () => {
  /** Ten days of one new item a day, polled hourly (304 between the new items). */
  function dailySource() {
    const s = source();
    let t = T0;
    for (let day = 0; day < 10; day++) {
      s.poll(t, ok(20, day === 0 ? 20 : 1));
      for (let h = 1; h < 24; h++) s.poll(t + h * HOUR, notModified);
      t += DAY;
    }
    return { s, t };
  }

  it('learns a steady daily source and opens one incident when it stays quiet past 4 × p90', () => {
    const { s, t } = dailySource();
    expect(s.log).toEqual([]);
    expect(s.health.cadence).toMatchObject({ gaps: 9, p50Ms: DAY, p90Ms: DAY, silentAfterMs: 4 * DAY });
    const lastArrival = t - DAY;
    // Quiet: every hourly poll is a 304, and each one is evaluated.
    const opened: number[] = [];
    for (let h = 0; h < 8 * 24; h++) {
      const at = t + h * HOUR;
      if (summary(s.poll(at, notModified)).includes('opened:silent')) opened.push(at);
    }
    expect(opened).toEqual([lastArrival + 4 * DAY + HOUR]);
    expect(s.health.open.silent?.detail).toMatch(/^no new item for 4 days; it usually brings one every 24 h/);
    expect(s.log).toHaveLength(1);
  });

  it('resolves once on the next new item, and the same incident id is carried', () => {
    const { s, t } = dailySource();
    s.poll(t + 5 * DAY, notModified);
    const opened = s.log[0]!.incident;
    expect(summary(s.poll(t + 6 * DAY, ok(21, 1)))).toEqual(['resolved:silent']);
    expect(s.log[1]!.incident).toMatchObject({ id: opened.id, resolvedAt: new Date(t + 6 * DAY).toISOString() });
    expect(summary(s.poll(t + 6 * DAY + HOUR, notModified))).toEqual([]);
    expect(summary(s.poll(t + 7 * DAY, ok(22, 1)))).toEqual([]);
    expect(s.health.open).toEqual({});
  });

  it('stays off while fewer than five gaps are known', () => {
    const s = source();
    for (let day = 0; day < 5; day++) s.poll(T0 + day * DAY, ok(5 + day, 1));
    expect(s.health.cadence).toBeUndefined();
    expect(s.poll(T0 + 60 * DAY, notModified)).toEqual([]);
  });

  it('honours the configured multiplier and floor', () => {
    const s = source();
    const thresholds = { ...DEFAULT_INCIDENT_THRESHOLDS, silence: { multiplier: 2, floorMs: 3 * DAY } };
    let health = initialSourceHealth();
    const arrivals = [0, 1, 2, 3, 4, 5].map((d) => T0 + d * HOUR);
    const r = evaluatePoll({
      feedId: 'bursty',
      previous: health,
      observation: notModified,
      arrivalsMs: arrivals,
      now: new Date(T0 + 5 * HOUR + 3 * DAY - 1),
      thresholds,
    });
    expect(r.changes).toEqual([]);
    health = r.next;
    expect(health.cadence?.silentAfterMs).toBe(3 * DAY);
    const later = evaluatePoll({
      feedId: 'bursty',
      previous: health,
      observation: notModified,
      arrivalsMs: arrivals,
      now: new Date(T0 + 5 * HOUR + 3 * DAY + 1),
      thresholds,
    });
    expect(summary(later.changes)).toEqual(['opened:silent']);
    expect(s.log).toEqual([]);
  });
});

describe('empty', () => {
  it('an html source that listed 12 items and now lists none opens `empty`, and recovers once', () => {
    const s = source('gacc-announcements');
    s.poll(T0, ok(12, 12));
    s.poll(T0 + HOUR, ok(12, 0));
    expect(summary(s.poll(T0 + 2 * HOUR, ok(0, 0)))).toEqual([]);
    expect(summary(s.poll(T0 + 3 * HOUR, ok(0, 0)))).toEqual(['opened:empty']);
    // 304s of the empty page keep it open without a second notice.
    expect(summary(s.poll(T0 + 4 * HOUR, notModified))).toEqual([]);
    expect(summary(s.poll(T0 + 5 * HOUR, ok(0, 0)))).toEqual([]);
    // Fixed: one poll with items, then the unchanged page (304) confirms it.
    expect(summary(s.poll(T0 + 6 * HOUR, ok(12, 1)))).toEqual([]);
    expect(summary(s.poll(T0 + 7 * HOUR, notModified))).toEqual(['resolved:empty']);
    expect(s.log.map((c) => c.incident.id)).toEqual([
      `gacc-announcements-empty-${T0 + 3 * HOUR}`,
      `gacc-announcements-empty-${T0 + 3 * HOUR}`,
    ]);
  });

  it('never fires for a source that has yielded nothing yet', () => {
    const s = source();
    for (let i = 0; i < 10; i++) s.poll(T0 + i * HOUR, ok(0, 0));
    expect(s.log).toEqual([]);
  });

  it('a page that flaps between items and none does not spam', () => {
    const s = source();
    s.poll(T0, ok(12, 12));
    for (let i = 1; i <= 40; i++) s.poll(T0 + i * HOUR, ok(i % 2 === 0 ? 12 : 0, 0));
    expect(s.log).toEqual([]);
    // Down for good: one notice, then quiet however long it lasts.
    for (let i = 41; i <= 80; i++) s.poll(T0 + i * HOUR, ok(0, 0));
    expect(summary(s.log)).toEqual(['opened:empty']);
  });
});

describe('page sources', () => {
  it('a watched region that did not change (zero items) is never `empty`', () => {
    let health = initialSourceHealth();
    const changes: IncidentChange[] = [];
    const observations: PollObservation[] = [ok(1, 1), ok(0, 0), ok(0, 0), notModified, ok(0, 0), ok(0, 0)];
    observations.forEach((observation, i) => {
      const r = evaluatePoll({
        feedId: 'entity-list-supplement',
        previous: health,
        observation,
        arrivalsMs: [],
        now: new Date(T0 + i * HOUR),
        hasItemList: false,
      });
      health = r.next;
      changes.push(...r.changes);
    });
    expect(changes).toEqual([]);
    expect(health).toMatchObject({ hasYielded: false, emptyStreak: 0, okStreak: 6 });
    expect(health.lastArrivalAt).toBe(new Date(T0).toISOString());
  });
});

describe('failing', () => {
  it('opens after three parse failures in a row, naming the error, and resolves after two good polls', () => {
    const s = source();
    s.poll(T0, ok(10, 10));
    expect(s.poll(T0 + HOUR, failed())).toEqual([]);
    expect(s.poll(T0 + 2 * HOUR, failed())).toEqual([]);
    const opened = s.poll(T0 + 3 * HOUR, failed('FEED_PARSE: the document is not RSS, Atom or JSON Feed'));
    expect(summary(opened)).toEqual(['opened:failing']);
    expect(opened[0]!.incident.detail).toBe(
      '3 polls in a row failed; the last with FEED_PARSE: the document is not RSS, Atom or JSON Feed',
    );
    expect(s.poll(T0 + 4 * HOUR, failed())).toEqual([]);
    expect(s.poll(T0 + 5 * HOUR, ok(10, 0))).toEqual([]);
    expect(summary(s.poll(T0 + 6 * HOUR, notModified))).toEqual(['resolved:failing']);
  });

  it('alternating failures and successes never open it; a relapse before recovery sends nothing', () => {
    const s = source();
    for (let i = 0; i < 30; i++) s.poll(T0 + i * HOUR, i % 2 ? failed() : ok(3, 0));
    expect(s.log).toEqual([]);
    for (let i = 30; i < 33; i++) s.poll(T0 + i * HOUR, failed());
    s.poll(T0 + 33 * HOUR, ok(3, 0));
    for (let i = 34; i < 40; i++) s.poll(T0 + i * HOUR, failed());
    expect(summary(s.log)).toEqual(['opened:failing']);
  });

  it('a failing source is not also reported silent', () => {
    const s = source();
    for (let day = 0; day < 8; day++) s.poll(T0 + day * DAY, ok(9, 1));
    for (let h = 1; h <= 20 * 24; h++) s.poll(T0 + 7 * DAY + h * HOUR, failed('FEED_HTTP_STATUS: 503'));
    expect(summary(s.log)).toEqual(['opened:failing']);
  });
});
