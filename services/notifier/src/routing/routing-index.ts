import {
  type Alert,
  type Evidence,
  FILTERABLE_IDENTIFIER_KINDS,
  identifierAncestorKeys,
  identifierKey,
  parseIdentifierQuery,
  rankSeverity,
  SEVERITIES,
  type Severity,
  type Subscription,
  TOPICS,
} from '@regwatch/contracts';
import { foldText, type TermHit, TermMatcher, watchEvidence } from './text-match.js';

/** One subscription an alert should go to, and why. */
export interface RouteMatch {
  subscription: Subscription;
  /**
   * The reasons, for the email's "Why you got this" and the webhook's `why`: `topic:export_controls`,
   * `jurisdiction:CN`, `feed:bis-press`, `entity:NVIDIA`, `watch:Acme`, `identifier:3A090` (the value the
   * subscription watches, normalized), or `all` for a subscription without filters.
   */
  matchedBy: readonly string[];
  /** The alert's severity for this subscription: one step higher when one of its watch terms appears. */
  severity: Severity;
  /** Where the subscription's watch terms appear in the alert's title and summary (empty when none do). */
  watchEvidence: readonly Evidence[];
}

export interface MatchOptions {
  /** Also return paused subscriptions (for a preview in the api); delivery never sets this. */
  includePaused?: boolean;
}

/** Subscriptions compiled for routing; build once per subscription change, then match every alert. */
export interface RoutingIndex {
  /** Subscriptions indexed (paused ones included). */
  readonly size: number;
  /** The subscriptions the alert should be delivered to, in the order they were given to {@link buildRoutingIndex}. */
  match(alert: Alert, opts?: MatchOptions): RouteMatch[];
  /**
   * The same subscriptions as {@link match}, without building the reasons: what routing needs per
   * alert. With thousands of matches, a result object per match is the garbage that puts
   * scavenges into the tail; reasons are built at delivery time by {@link explainMatch}.
   */
  matchSubscriptions(alert: Alert): Subscription[];
  /** How many subscriptions a match examines for the alert: a measure of how much the index prunes. */
  countCandidates(alert: Alert): number;
}

type Dimension = 'topics' | 'jurisdictions' | 'entities' | 'feeds' | 'identifiers';

// Rough share of alerts one filter value lets through, used to file each subscription under its most
// selective dimension so few subscriptions are examined per alert. There are six topics and an alert
// has one or two; jurisdictions are a few dozen with US and CN common; entities and feeds are many;
// most alerts name no trade-control identifier at all.
// Only the index's speed depends on these numbers, never its answers.
const PASS_RATE: Record<Dimension, number> = {
  topics: 0.3,
  jurisdictions: 0.15,
  feeds: 0.1,
  entities: 0.02,
  identifiers: 0.01,
};

const MAX_RANK = SEVERITIES.length - 1;
// Topic and jurisdiction hits are packed into one small integer (topic bits, then one bit per alert
// jurisdiction) to key shared `matchedBy` arrays; it must stay a V8 small integer (31 bits) to be
// cheap, so alerts listing more jurisdictions than fit get an array per match instead.
const TOPIC_SHIFT = TOPICS.length;
const MAX_SHARED_JURISDICTIONS = 30 - TOPIC_SHIFT;
const TOPIC_BIT = new Map<string, number>(TOPICS.map((t, k) => [t, 1 << k]));

const PAUSED = 1;
const HAS_TOPICS = 2;
const HAS_JURISDICTIONS = 4;
const HAS_ENTITIES = 8;
const HAS_FEEDS = 16;
const HAS_IDENTIFIERS = 32;

const FILTERABLE = new Set<string>(FILTERABLE_IDENTIFIER_KINDS);

/**
 * A subscription's identifiers as match keys (see `identifierKey`) with their `matchedBy` labels;
 * entries that do not parse (the schema rejects them before this) are dropped.
 */
function identifierLabels(listed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of listed) {
    const id = parseIdentifierQuery(raw);
    if ('error' in id) continue;
    const key = identifierKey(id);
    if (!out.has(key)) out.set(key, `identifier:${id.value}`);
  }
  return out;
}

/** An alert's identifier keys with every parent's (`3A090.a` → also `3A090`), once each. */
export function alertIdentifierKeys(alert: Alert): string[] {
  const ids = alert.identifiers;
  if (ids === undefined || ids.length === 0) return [];
  const keys = new Set<string>();
  for (const id of ids) if (FILTERABLE.has(id.kind)) for (const k of identifierAncestorKeys(id)) keys.add(k);
  return [...keys];
}

// Shared by matches without watch hits; frozen so one caller cannot change what another sees.
const NO_EVIDENCE: readonly Evidence[] = Object.freeze([]);

function nonEmpty<T>(xs: readonly T[] | undefined): readonly T[] | null {
  return xs && xs.length > 0 ? xs : null;
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const list = map.get(key);
  if (list) list.push(i);
  else map.set(key, [i]);
}

/**
 * An alert's values in one dimension with their `matchedBy` labels, built once per alert, not per
 * match — and only when asked for: routing for delivery (`matchSubscriptions`) never reads them.
 */
class Values {
  private built: string[] | undefined;
  constructor(
    readonly keys: string[],
    private readonly prefix: string,
    /** What the labels show, when not the keys (entities: the alert's spelling, not the folded key). */
    private readonly shown?: string[],
  ) {}

  get labels(): string[] {
    if (this.built === undefined) {
      const from = this.shown ?? this.keys;
      this.built = new Array<string>(from.length);
      for (let k = 0; k < from.length; k++) this.built[k] = this.prefix + from[k]!;
    }
    return this.built;
  }
}

function hasIdentifier(filter: ReadonlyMap<string, string>, keys: readonly string[]): boolean {
  for (let k = 0; k < keys.length; k++) if (filter.has(keys[k]!)) return true;
  return false;
}

function intersects(filter: ReadonlySet<string>, keys: readonly string[]): boolean {
  for (let k = 0; k < keys.length; k++) if (filter.has(keys[k]!)) return true;
  return false;
}

function pick(filter: ReadonlySet<string>, values: Values, why: string[]): void {
  const keys = values.keys;
  for (let k = 0; k < keys.length; k++) if (filter.has(keys[k]!)) why.push(values.labels[k]!);
}

/**
 * Compiles subscriptions into an index for {@link RoutingIndex.match}.
 *
 * Semantics (the same as checking every subscription in turn, which the tests verify):
 * - a paused subscription never matches;
 * - each filter dimension that lists values (topics, jurisdictions, entities, feeds, identifiers) must
 *   match — AND across dimensions, OR within one; an empty list counts as not set;
 * - identifiers match by hierarchy: a listed identifier matches the alert's identifier or any below
 *   it (`3A090` matches `3A090.a`, HS `8542` matches `8542.31`, `15 CFR 744` matches `15 CFR 744.21`),
 *   never the reverse; a watch term does not stand in for them;
 * - entities compare case- and accent-insensitively; feeds match the alert's feed or any source's feed;
 * - a watch term found (whole words, case-insensitive) in the title or summary satisfies the entities
 *   dimension even when no entity matches, and raises the severity one step for that subscription
 *   (`critical` stays `critical`); watch terms alone do not restrict which alerts match;
 * - `minSeverity` is compared, with `rankSeverity`, to that possibly raised severity;
 * - a subscription without filters matches every alert (`matchedBy: ['all']`).
 *
 * Each subscription is filed under one dimension (its most selective) or, with none, in a wildcard
 * bucket per `minSeverity`; a match looks up the alert's values and checks only those candidates,
 * against per-subscription bitmasks and sets kept in flat arrays.
 */
export function buildRoutingIndex(subscriptions: readonly Subscription[]): RoutingIndex {
  const n = subscriptions.length;
  const subs = [...subscriptions];
  const flags = new Uint8Array(n);
  const minRank = new Uint8Array(n);
  const topicMask = new Uint32Array(n);
  const entitySets: Array<ReadonlySet<string> | undefined> = new Array(n);
  const feedSets: Array<ReadonlySet<string> | undefined> = new Array(n);
  // Identifier match key → `identifier:<value>`, per subscription that lists identifiers.
  const identifierSets: Array<ReadonlyMap<string, string> | undefined> = new Array(n);
  // Watch term id → `watch:<the subscription's own spelling>`, per subscription that lists terms.
  const watchLabels: Array<Map<number, string> | undefined> = new Array(n);

  const postings: Record<Dimension, Map<string, number[]>> = {
    topics: new Map(),
    jurisdictions: new Map(),
    entities: new Map(),
    feeds: new Map(),
    identifiers: new Map(),
  };
  // wildcard[r]: subscriptions filed under no dimension whose minSeverity has rank r.
  const wildcard: number[][] = SEVERITIES.map(() => []);
  const terms = new TermMatcher();
  // Watch term id → subscriptions listing it.
  const termSubs: number[][] = [];
  // Jurisdictions are numbered as met; each subscription's set is a row of bits in `jurisdictionBits`.
  const jurisdictionIds = new Map<string, number>();
  const jurisdictionLists: Array<readonly string[] | null> = new Array(n);

  for (let i = 0; i < n; i++) {
    const sub = subs[i]!;
    const f = sub.filter ?? {};
    const topics = nonEmpty(f.topics);
    const jurisdictions = nonEmpty(f.jurisdictions);
    const entities = nonEmpty(f.entities);
    const feeds = nonEmpty(f.feeds);
    const identifiers = nonEmpty(f.identifiers);
    let flag = sub.paused === true ? PAUSED : 0;
    if (topics) {
      flag |= HAS_TOPICS;
      for (const t of topics) topicMask[i]! |= TOPIC_BIT.get(t) ?? 0;
    }
    if (jurisdictions) {
      flag |= HAS_JURISDICTIONS;
      for (const j of jurisdictions) if (!jurisdictionIds.has(j)) jurisdictionIds.set(j, jurisdictionIds.size);
    }
    jurisdictionLists[i] = jurisdictions;
    if (entities) {
      flag |= HAS_ENTITIES;
      entitySets[i] = new Set(entities.map(foldText));
    }
    if (feeds) {
      flag |= HAS_FEEDS;
      feedSets[i] = new Set(feeds);
    }
    if (identifiers) {
      flag |= HAS_IDENTIFIERS;
      identifierSets[i] = identifierLabels(identifiers);
    }
    flags[i] = flag;
    minRank[i] = f.minSeverity ? rankSeverity(f.minSeverity) : 0;

    for (const term of f.watchTerms ?? []) {
      const id = terms.add(term);
      if (id === null) continue;
      const labels = watchLabels[i] ?? new Map<number, string>();
      watchLabels[i] = labels;
      if (labels.has(id)) continue;
      labels.set(id, `watch:${term}`);
      const listing = termSubs[id] ?? [];
      termSubs[id] = listing;
      listing.push(i);
    }

    let best: Dimension | null = null;
    let bestRate = Number.POSITIVE_INFINITY;
    const sizes: Record<Dimension, number> = {
      entities: entities?.length ?? 0,
      feeds: feeds?.length ?? 0,
      jurisdictions: jurisdictions?.length ?? 0,
      topics: topics?.length ?? 0,
      identifiers: identifiers ? identifierSets[i]!.size : 0,
    };
    for (const dim of ['identifiers', 'entities', 'feeds', 'jurisdictions', 'topics'] as const) {
      if (sizes[dim] === 0) continue;
      const rate = Math.min(1, sizes[dim] * PASS_RATE[dim]);
      if (rate < bestRate) {
        best = dim;
        bestRate = rate;
      }
    }
    if (best === null) wildcard[minRank[i]!]!.push(i);
    else if (best === 'entities') for (const e of entitySets[i]!) push(postings.entities, e, i);
    else if (best === 'identifiers') for (const key of identifierSets[i]!.keys()) push(postings.identifiers, key, i);
    else
      for (const v of new Set(best === 'feeds' ? feeds : best === 'topics' ? topics : jurisdictions))
        push(postings[best], v, i);
  }

  const words = Math.max(1, Math.ceil(jurisdictionIds.size / 32));
  const jurisdictionBits = new Uint32Array(n * words);
  for (let i = 0; i < n; i++) {
    for (const j of jurisdictionLists[i] ?? []) {
      const id = jurisdictionIds.get(j)!;
      jurisdictionBits[i * words + (id >>> 5)]! |= 1 << (id & 31);
    }
  }

  // Generation stamps instead of a Set per call: `seen[i] === gen` means already a candidate,
  // `hitGen[i] === gen` means subscription i has watch hits for this alert, listed in hitIds[i].
  const seen = new Uint32Array(n);
  const hitGen = new Uint32Array(n);
  const hitIds: number[][] = new Array(n);
  let gen = 0;

  interface AlertView {
    rank: number;
    topicMask: number;
    topicBits: number[];
    topics: Values;
    /** Jurisdictions some subscription lists: word offset and bit in a row of `jurisdictionBits`. */
    jurisdictionWord: number[];
    jurisdictionBit: number[];
    jurisdictions: Values;
    entities: Values;
    feeds: Values;
    /** The alert's identifier keys, parents included. */
    identifierKeys: string[];
    hits: TermHit[];
    /** Subscriptions with a watch hit. */
    hitSubs: number[];
    /** Shared `matchedBy` arrays by topic and jurisdiction hits. */
    shared: Map<number, readonly string[]>;
  }

  function view(alert: Alert): AlertView {
    gen = (gen + 1) >>> 0;
    if (gen === 0) {
      seen.fill(0);
      hitGen.fill(0);
      gen = 1;
    }
    const hits: TermHit[] = [];
    if (terms.size > 0) {
      terms.find('title', alert.title, hits);
      terms.find('summary', alert.summary, hits);
    }
    const hitSubs: number[] = [];
    for (const id of new Set(hits.map((h) => h.termId))) {
      for (const i of termSubs[id] ?? []) {
        if (hitGen[i] !== gen) {
          hitGen[i] = gen;
          hitIds[i] = [id];
          hitSubs.push(i);
        } else hitIds[i]!.push(id);
      }
    }
    const topics = [...new Set(alert.topics)];
    const topicBits = topics.map((t) => TOPIC_BIT.get(t) ?? 0);
    const jurisdictions = [...new Set(alert.jurisdictions)].filter((j) => jurisdictionIds.has(j));
    const entities = new Map<string, string>();
    for (const e of alert.entities) if (!entities.has(foldText(e))) entities.set(foldText(e), e);
    const feeds = [...new Set([alert.feedId, ...alert.sources.map((s) => s.feedId)])];
    return {
      rank: rankSeverity(alert.severity),
      topicMask: topicBits.reduce((m, b) => m | b, 0),
      topicBits,
      topics: new Values(topics, 'topic:'),
      jurisdictionWord: jurisdictions.map((j) => jurisdictionIds.get(j)! >>> 5),
      jurisdictionBit: jurisdictions.map((j) => 1 << (jurisdictionIds.get(j)! & 31)),
      jurisdictions: new Values(jurisdictions, 'jurisdiction:'),
      entities: new Values([...entities.keys()], 'entity:', [...entities.values()]),
      feeds: new Values(feeds, 'feed:'),
      identifierKeys: alertIdentifierKeys(alert),
      hits,
      hitSubs,
      shared: new Map(),
    };
  }

  // Candidate buffers are allocated once: a match then produces no garbage besides its results.
  const candidates = new Int32Array(n);
  const inOrder = new Int32Array(n);

  /** Fills `candidates` and returns how many there are. */
  function collect(v: AlertView): number {
    let count = 0;
    const add = (list: readonly number[] | undefined) => {
      if (!list) return;
      for (let k = 0; k < list.length; k++) {
        const i = list[k]!;
        if (seen[i] !== gen) {
          seen[i] = gen;
          candidates[count++] = i;
        }
      }
    };
    for (const t of v.topics.keys) add(postings.topics.get(t));
    for (const j of v.jurisdictions.keys) add(postings.jurisdictions.get(j));
    for (const e of v.entities.keys) add(postings.entities.get(e));
    for (const f of v.feeds.keys) add(postings.feeds.get(f));
    for (const k of v.identifierKeys) add(postings.identifiers.get(k));
    // A watch hit stands in for an entity, so subscriptions filed under entities can match through it.
    add(v.hitSubs);
    // A watch hit can lift severity one step, so wildcard subscriptions one rank up may still match.
    const top = Math.min(MAX_RANK, v.rank + (v.hitSubs.length > 0 ? 1 : 0));
    for (let r = 0; r <= top; r++) add(wildcard[r]);
    return count;
  }

  // Results come in input order. With many candidates, walking the stamps is cheaper than sorting.
  function ordered(count: number): Int32Array {
    if (count * 16 < n) return candidates.subarray(0, count).sort();
    let k = 0;
    for (let i = 0; i < n; i++) if (seen[i] === gen) inOrder[k++] = i;
    return inOrder.subarray(0, k);
  }

  function jurisdictionMatches(i: number, v: AlertView): boolean {
    const row = i * words;
    for (let k = 0; k < v.jurisdictionWord.length; k++) {
      if ((jurisdictionBits[row + v.jurisdictionWord[k]!]! & v.jurisdictionBit[k]!) !== 0) return true;
    }
    return false;
  }

  /** Whether subscription i gets the alert; every dimension is checked, no reason is built. */
  function accepts(i: number, v: AlertView, includePaused: boolean): boolean {
    const flag = flags[i]!;
    if ((flag & PAUSED) !== 0 && !includePaused) return false;
    const hit = hitGen[i] === gen;
    const rank = hit ? Math.min(MAX_RANK, v.rank + 1) : v.rank;
    if (rank < minRank[i]!) return false;
    if ((flag & HAS_TOPICS) !== 0 && (topicMask[i]! & v.topicMask) === 0) return false;
    if ((flag & HAS_JURISDICTIONS) !== 0 && !jurisdictionMatches(i, v)) return false;
    if ((flag & HAS_FEEDS) !== 0 && !intersects(feedSets[i]!, v.feeds.keys)) return false;
    if ((flag & HAS_IDENTIFIERS) !== 0 && !hasIdentifier(identifierSets[i]!, v.identifierKeys)) return false;
    if ((flag & HAS_ENTITIES) !== 0 && !hit && !intersects(entitySets[i]!, v.entities.keys)) return false;
    return true;
  }

  function evaluate(i: number, v: AlertView, includePaused: boolean): RouteMatch | null {
    // Every dimension is checked before any reason is built: most rejected candidates fail cheaply.
    if (!accepts(i, v, includePaused)) return null;
    const flag = flags[i]!;
    const hit = hitGen[i] === gen;
    const rank = hit ? Math.min(MAX_RANK, v.rank + 1) : v.rank;
    const entityHit = (flag & HAS_ENTITIES) !== 0 && intersects(entitySets[i]!, v.entities.keys);

    const severity = SEVERITIES[rank]!;
    // Reasons from topics and jurisdictions alone depend only on which of the alert's values hit, so
    // subscriptions with the same hits share one frozen array: with thousands of matches per alert,
    // an array per match is garbage that shows up in p99 as scavenges.
    if (
      !hit &&
      !entityHit &&
      (flag & (HAS_FEEDS | HAS_IDENTIFIERS)) === 0 &&
      v.jurisdictionWord.length <= MAX_SHARED_JURISDICTIONS
    ) {
      let key = 0;
      if ((flag & HAS_TOPICS) !== 0) {
        for (let k = 0; k < v.topicBits.length; k++) if ((topicMask[i]! & v.topicBits[k]!) !== 0) key |= 1 << k;
      }
      if ((flag & HAS_JURISDICTIONS) !== 0) {
        const row = i * words;
        for (let k = 0; k < v.jurisdictionWord.length; k++) {
          if ((jurisdictionBits[row + v.jurisdictionWord[k]!]! & v.jurisdictionBit[k]!) !== 0) {
            key |= 1 << (k + TOPIC_SHIFT);
          }
        }
      }
      let why = v.shared.get(key);
      if (!why) {
        why = Object.freeze(reasons(i, flag, v));
        v.shared.set(key, why);
      }
      return { subscription: subs[i]!, matchedBy: why, severity, watchEvidence: NO_EVIDENCE };
    }
    const why = reasons(i, flag, v);
    if (why[0] === 'all') why.length = 0;
    if ((flag & HAS_FEEDS) !== 0) pick(feedSets[i]!, v.feeds, why);
    if (entityHit) pick(entitySets[i]!, v.entities, why);
    if ((flag & HAS_IDENTIFIERS) !== 0) {
      const labels = identifierSets[i]!;
      const start = why.length;
      for (const k of v.identifierKeys) {
        const label = labels.get(k);
        if (label !== undefined && why.indexOf(label, start) < 0) why.push(label);
      }
    }
    let evidence = NO_EVIDENCE;
    if (hit) {
      const labels = watchLabels[i]!;
      for (const id of hitIds[i]!) why.push(labels.get(id)!);
      const found: Evidence[] = [];
      for (const h of v.hits) {
        const label = labels.get(h.termId);
        if (label !== undefined) found.push(watchEvidence(h, label.slice('watch:'.length)));
      }
      evidence = found;
    }
    if (why.length === 0) why.push('all');
    return { subscription: subs[i]!, matchedBy: why, severity, watchEvidence: evidence };
  }

  /** The topic and jurisdiction reasons of a match, or `['all']` when there are none. */
  function reasons(i: number, flag: number, v: AlertView): string[] {
    const why: string[] = [];
    if ((flag & HAS_TOPICS) !== 0) {
      for (let k = 0; k < v.topicBits.length; k++)
        if ((topicMask[i]! & v.topicBits[k]!) !== 0) why.push(v.topics.labels[k]!);
    }
    if ((flag & HAS_JURISDICTIONS) !== 0) {
      const row = i * words;
      for (let k = 0; k < v.jurisdictionWord.length; k++) {
        if ((jurisdictionBits[row + v.jurisdictionWord[k]!]! & v.jurisdictionBit[k]!) !== 0) {
          why.push(v.jurisdictions.labels[k]!);
        }
      }
    }
    if (why.length === 0) why.push('all');
    return why;
  }

  return {
    size: n,
    match(alert, opts) {
      const v = view(alert);
      const order = ordered(collect(v));
      const includePaused = opts?.includePaused === true;
      // Sized once and trimmed: growing by push copies the array several times over.
      const out: RouteMatch[] = new Array(order.length);
      let found = 0;
      for (let k = 0; k < order.length; k++) {
        const m = evaluate(order[k]!, v, includePaused);
        if (m) out[found++] = m;
      }
      out.length = found;
      return out;
    },
    matchSubscriptions(alert) {
      const v = view(alert);
      const order = ordered(collect(v));
      const out: Subscription[] = new Array(order.length);
      let found = 0;
      for (let k = 0; k < order.length; k++) {
        const i = order[k]!;
        if (accepts(i, v, false)) out[found++] = subs[i]!;
      }
      out.length = found;
      return out;
    },
    countCandidates(alert) {
      return collect(view(alert));
    },
  };
}

/**
 * Why one subscription gets an alert, with the same rules as {@link buildRoutingIndex}: for delivery
 * time, when the subscription is known and only `matchedBy` and the severity are needed.
 * Returns null when it does not match. Paused subscriptions are evaluated as if live.
 */
export function explainMatch(alert: Alert, subscription: Subscription): RouteMatch | null {
  return buildRoutingIndex([subscription]).match(alert, { includePaused: true })[0] ?? null;
}
