import {
  type Alert,
  type AlertIdentifier,
  parseIdentifierQuery,
  rankSeverity,
  SEVERITIES,
  type Severity,
  type Subscription,
  type SubscriptionFilter,
} from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { makeAlert, makeSubscriptions, makeWorld, seededRng } from './population.js';
import { buildRoutingIndex, explainMatch, type RouteMatch } from './routing-index.js';

function sub(id: string, filter: SubscriptionFilter, extra: Partial<Subscription> = {}): Subscription {
  return {
    id,
    team: 'team-a',
    filter,
    channels: [{ type: 'email', to: ['team@example.com'] }],
    mode: 'immediate',
    paused: false,
    ...extra,
  };
}

function alert(over: Partial<Alert> = {}): Alert {
  const base: Alert = {
    id: 'a1',
    storyId: 's1',
    itemId: 'i1',
    feedId: 'bis-press',
    title: 'Commerce adds chip makers to the Entity List',
    url: 'https://example.com/a1',
    summary: 'The Bureau of Industry and Security said the rule targets advanced computing.',
    published: '2025-01-02T03:04:05Z',
    score: 0.9,
    severity: 'notice',
    topics: ['export_controls'],
    jurisdictions: ['US', 'CN'],
    entities: ['NVIDIA', 'BIS'],
    evidence: [],
    rulesVersion: 'test',
    sources: [{ feedId: 'bis-press', itemId: 'i1', title: 't', published: '2025-01-02T03:04:05Z' }],
    createdAt: '2025-01-02T03:05:00Z',
  };
  return { ...base, ...over };
}

function ids(matches: RouteMatch[]): string[] {
  return matches.map((m) => m.subscription.id);
}

describe('buildRoutingIndex: semantics', () => {
  it('matches each dimension on its own, OR within a dimension', () => {
    const index = buildRoutingIndex([
      sub('topic-yes', { topics: ['sanctions', 'export_controls'] }),
      sub('topic-no', { topics: ['sanctions'] }),
      sub('jur-yes', { jurisdictions: ['CN'] }),
      sub('jur-no', { jurisdictions: ['RU', 'IR'] }),
      sub('ent-yes', { entities: ['nvidia'] }),
      sub('ent-no', { entities: ['Huawei'] }),
      sub('feed-yes', { feeds: ['other-feed', 'bis-press'] }),
      sub('feed-no', { feeds: ['other-feed'] }),
    ]);
    const m = index.match(alert());
    expect(ids(m)).toEqual(['topic-yes', 'jur-yes', 'ent-yes', 'feed-yes']);
    expect(m.map((x) => x.matchedBy)).toEqual([
      ['topic:export_controls'],
      ['jurisdiction:CN'],
      ['entity:NVIDIA'],
      ['feed:bis-press'],
    ]);
  });

  it('needs every listed dimension to match (AND across dimensions)', () => {
    const index = buildRoutingIndex([
      sub('both', { topics: ['export_controls'], jurisdictions: ['CN'] }),
      sub('topic-only-hits', { topics: ['export_controls'], jurisdictions: ['RU'] }),
      sub('all-four', { topics: ['export_controls'], jurisdictions: ['US'], entities: ['BIS'], feeds: ['bis-press'] }),
      sub('entity-misses', { topics: ['export_controls'], entities: ['ASML'] }),
    ]);
    const m = index.match(alert());
    expect(ids(m)).toEqual(['both', 'all-four']);
    expect(m[1]!.matchedBy).toEqual(['topic:export_controls', 'jurisdiction:US', 'feed:bis-press', 'entity:BIS']);
  });

  it('matches a feed filter against any source of the story', () => {
    const index = buildRoutingIndex([sub('via-source', { feeds: ['reuters-trade'] })]);
    const a = alert({
      sources: [
        { feedId: 'bis-press', itemId: 'i1', title: 't', published: '2025-01-02T03:04:05Z' },
        { feedId: 'reuters-trade', itemId: 'i9', title: 't', published: '2025-01-02T03:04:05Z' },
      ],
    });
    expect(ids(index.match(a))).toEqual(['via-source']);
  });

  it('never matches a paused subscription (unless a preview asks)', () => {
    const index = buildRoutingIndex([sub('paused', {}, { paused: true }), sub('live', {})]);
    expect(ids(index.match(alert()))).toEqual(['live']);
    expect(ids(index.match(alert(), { includePaused: true }))).toEqual(['paused', 'live']);
  });

  it('matches every alert for a subscription without filters, and says so', () => {
    const index = buildRoutingIndex([sub('all', {}), sub('empty-lists', { topics: [], entities: [] })]);
    const m = index.match(alert({ topics: [], jurisdictions: [], entities: [] }));
    expect(ids(m)).toEqual(['all', 'empty-lists']);
    expect(m[0]!.matchedBy).toEqual(['all']);
  });

  it('compares minSeverity by rank', () => {
    const index = buildRoutingIndex(SEVERITIES.map((s) => sub(`min-${s}`, { minSeverity: s })));
    expect(ids(index.match(alert({ severity: 'notice' })))).toEqual(['min-info', 'min-notice']);
    expect(ids(index.match(alert({ severity: 'critical' })))).toHaveLength(4);
    expect(ids(index.match(alert({ severity: 'info' })))).toEqual(['min-info']);
  });

  it('lets a watch term stand in for the entities filter and raises severity one step', () => {
    const index = buildRoutingIndex([
      sub('watcher', { entities: ['Huawei'], watchTerms: ['Acme Robotics', 'Zeta'], minSeverity: 'high' }),
      sub('topic-watch', { topics: ['sanctions'], watchTerms: ['Acme Robotics'] }),
      sub('plain', { entities: ['Huawei'] }),
    ]);
    const a = alert({
      severity: 'notice',
      title: 'Rule hits ACME robotics suppliers',
      summary: 'Analysts say acme Robotics and Zetanet are exposed.',
    });
    const m = index.match(a);
    // `topic-watch` still needs its topic; `plain` has no watch terms; `watcher` matches through the
    // watch term although no entity matches, and notice + 1 = high passes its minSeverity.
    expect(ids(m)).toEqual(['watcher']);
    expect(m[0]!.severity).toBe('high');
    expect(m[0]!.matchedBy).toEqual(['watch:Acme Robotics']);
    // Both occurrences, with offsets into the original fields ("Zetanet" is not the word "Zeta").
    expect(m[0]!.watchEvidence.map((e) => [e.field, e.text, a[e.field].slice(e.start, e.end)])).toEqual([
      ['title', 'ACME robotics', 'ACME robotics'],
      ['summary', 'acme Robotics', 'acme Robotics'],
    ]);
  });

  it('raises severity for watch terms on subscriptions that do not filter on entities', () => {
    const index = buildRoutingIndex([
      sub('w', { watchTerms: ['Nexperia'] }),
      sub('crit', { watchTerms: ['Nexperia'] }),
    ]);
    expect(index.match(alert({ severity: 'info' }))[0]!.severity).toBe('info');
    const hit = index.match(alert({ severity: 'high', summary: 'Dutch court rules on Nexperia.' }));
    expect(hit.map((m) => [m.severity, m.matchedBy])).toEqual([
      ['critical', ['watch:Nexperia']],
      ['critical', ['watch:Nexperia']],
    ]);
    expect(index.match(alert({ severity: 'critical', summary: 'Nexperia' }))[0]!.severity).toBe('critical');
  });

  it('lets a watch hit lift an alert over a wildcard subscription’s minSeverity', () => {
    const index = buildRoutingIndex([sub('floor', { minSeverity: 'critical', watchTerms: ['Acme'] })]);
    expect(ids(index.match(alert({ severity: 'high' })))).toEqual([]);
    expect(ids(index.match(alert({ severity: 'high', title: 'Acme fined' })))).toEqual(['floor']);
  });

  it('folds case and accents on entities and watch terms, and finds CJK terms without spaces', () => {
    const index = buildRoutingIndex([
      sub('accent', { entities: ['Société Générale'] }),
      sub('cjk', { entities: ['nobody'], watchTerms: ['华为'] }),
    ]);
    expect(ids(index.match(alert({ entities: ['SOCIETE GENERALE'] })))).toEqual(['accent']);
    const m = index.match(alert({ entities: [], summary: '美国商务部将华为列入实体清单' }));
    expect(ids(m)).toEqual(['cjk']);
    expect(m[0]!.watchEvidence[0]!.text).toBe('华为');
  });

  it('explains one subscription the same way', () => {
    const s = sub('one', { topics: ['export_controls'], watchTerms: ['Entity List'] }, { paused: true });
    expect(explainMatch(alert(), s)).toMatchObject({
      matchedBy: ['topic:export_controls', 'watch:Entity List'],
      severity: 'high',
    });
    expect(explainMatch(alert({ topics: ['sanctions'] }), s)).toBeNull();
  });

  it('matches identifiers by hierarchy: a watched parent matches its children, never the reverse', () => {
    const index = buildRoutingIndex([
      sub('eccn', { identifiers: ['3A090'] }),
      sub('eccn-sub', { identifiers: ['3a090.A'] }),
      sub('eccn-other', { identifiers: ['3A001'] }),
      sub('hs', { identifiers: ['HS 8542'] }),
      sub('hs-deep', { identifiers: ['8542.31.0000'] }),
      sub('cfr', { identifiers: ['15 CFR 744'] }),
      sub('cfr-section', { identifiers: ['15 C.F.R. § 744.22'] }),
      sub('family', { identifiers: ['9x515'] }),
      sub('fr', { identifiers: ['FR Doc. 2025-12345', '90 FR 100'] }),
    ]);
    const ids_: AlertIdentifier[] = [
      { kind: 'eccn', value: '3A090.a' },
      { kind: 'eccn', value: '3A090.b' },
      { kind: 'hs', value: '8542.31' },
      { kind: 'cfr', value: '15 CFR 744.21' },
      { kind: 'eccn', value: '9A515.a' },
      { kind: 'fr_doc', value: '2025-12345' },
      { kind: 'effective_date', value: '2025-02-01' },
    ];
    const m = index.match(alert({ identifiers: ids_ }));
    expect(m.map((x) => [x.subscription.id, x.matchedBy])).toEqual([
      ['eccn', ['identifier:3A090']],
      ['eccn-sub', ['identifier:3A090.a']],
      ['hs', ['identifier:8542']],
      ['cfr', ['identifier:15 CFR 744']],
      ['family', ['identifier:9x515']],
      ['fr', ['identifier:2025-12345']],
    ]);
    // An alert naming only the parent does not reach a team watching a child.
    expect(ids(index.match(alert({ identifiers: [{ kind: 'eccn', value: '3A090' }] })))).toEqual(['eccn']);
    // Alerts stored before identifiers existed have none, and match no identifier filter.
    expect(ids(index.match(alert()))).toEqual([]);
  });

  it('ANDs identifiers with the other dimensions', () => {
    const index = buildRoutingIndex([
      sub('both', { identifiers: ['3A090'], jurisdictions: ['CN'] }),
      sub('wrong-topic', { identifiers: ['3A090'], topics: ['sanctions'] }),
      sub('watch-is-no-identifier', { identifiers: ['4A090'], watchTerms: ['Entity List'] }),
    ]);
    const m = index.match(alert({ identifiers: [{ kind: 'eccn', value: '3A090' }] }));
    expect(m.map((x) => [x.subscription.id, [...x.matchedBy].sort()])).toEqual([
      ['both', ['identifier:3A090', 'jurisdiction:CN']],
    ]);
    expect(
      explainMatch(
        alert({ identifiers: [{ kind: 'eccn', value: '3A090.a' }] }),
        sub('one', { identifiers: ['3A090'] }),
      ),
    ).toMatchObject({ matchedBy: ['identifier:3A090'] });
  });

  it('counts far fewer candidates than subscriptions for a narrow alert', () => {
    const subs = Array.from({ length: 1000 }, (_, i) => sub(`e-${i}`, { entities: [`Company ${i}`] }));
    const index = buildRoutingIndex(subs);
    const a = alert({ entities: ['company 7'] });
    expect(index.countCandidates(a)).toBe(1);
    expect(ids(index.match(a))).toEqual(['e-7']);
  });
});

const regexps = new Map<string, RegExp>();
function wordRegExp(term: string): RegExp {
  let re = regexps.get(term);
  if (!re) {
    const body = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    re = new RegExp(`(?<![\\p{L}\\p{N}])${body}(?![\\p{L}\\p{N}])`, 'iu');
    regexps.set(term, re);
  }
  return re;
}

/** Whether the alert's identifier lies at or below the watched one, by string prefixes (not index keys). */
function isUnder(id: AlertIdentifier, watched: AlertIdentifier): boolean {
  if (id.kind !== watched.kind) return false;
  switch (id.kind) {
    case 'eccn':
      if (/^[0-9]x[0-9]{3}$/.test(watched.value)) {
        return (
          /^[0-9][A-E][56]/.test(id.value) &&
          id.value[0] === watched.value[0] &&
          id.value.slice(2, 5) === watched.value.slice(2)
        );
      }
      return id.value === watched.value || id.value.startsWith(`${watched.value}.`);
    case 'hs':
      return id.value.replaceAll('.', '').startsWith(watched.value.replaceAll('.', ''));
    case 'cfr':
      return id.value === watched.value || id.value.startsWith(`${watched.value}.`);
    default:
      return id.value === watched.value;
  }
}

// The reference: every subscription checked in turn, written straight from the rules above.
function naiveMatch(subs: Subscription[], a: Alert): Array<{ id: string; severity: Severity; why: string[] }> {
  const text = { title: a.title, summary: a.summary };
  const lower = `${a.title}\n${a.summary}`.toLowerCase();
  const out: Array<{ id: string; severity: Severity; why: string[] }> = [];
  for (const s of subs) {
    if (s.paused) continue;
    const f = s.filter;
    const why: string[] = [];
    const dim = (listed: readonly string[] | undefined, have: readonly string[], label: string, fold = false) => {
      if (!listed || listed.length === 0) return true;
      const norm = (x: string) => (fold ? x.toLowerCase() : x);
      const hits = [...new Set(have)].filter((h) => listed.some((l) => norm(l) === norm(h)));
      for (const h of hits) why.push(`${label}:${h}`);
      return hits.length > 0;
    };
    const feeds = [a.feedId, ...a.sources.map((x) => x.feedId)];
    if (!dim(f.topics, a.topics, 'topic')) continue;
    if (!dim(f.jurisdictions, a.jurisdictions, 'jurisdiction')) continue;
    if (!dim(f.feeds, feeds, 'feed')) continue;
    if (f.identifiers && f.identifiers.length > 0) {
      const hits = new Set<string>();
      for (const raw of f.identifiers) {
        const w = parseIdentifierQuery(raw);
        if ('error' in w) continue;
        if ((a.identifiers ?? []).some((id) => isUnder(id, w))) hits.add(`identifier:${w.value}`);
      }
      if (hits.size === 0) continue;
      why.push(...hits);
    }
    const entityOk = dim(f.entities, a.entities, 'entity', true);
    const watched = (f.watchTerms ?? []).filter((t) => {
      // Cheap substring test first; the regexp then insists on whole words.
      if (!lower.includes(t.toLowerCase())) return false;
      const re = wordRegExp(t);
      return re.test(text.title) || re.test(text.summary);
    });
    if (!entityOk && watched.length === 0) continue;
    const rank = Math.min(3, rankSeverity(a.severity) + (watched.length > 0 ? 1 : 0));
    if (f.minSeverity && rank < rankSeverity(f.minSeverity)) continue;
    for (const t of watched) why.push(`watch:${t}`);
    out.push({ id: s.id, severity: SEVERITIES[rank]!, why: why.length > 0 ? why : ['all'] });
  }
  return out;
}

describe('buildRoutingIndex: equivalence with checking every subscription', () => {
  for (const seed of [1, 2, 3]) {
    it(`gives the same answers on a random population (seed ${seed})`, () => {
      const rng = seededRng(seed);
      const world = makeWorld(rng);
      const subs = makeSubscriptions(3000, world, rng);
      const index = buildRoutingIndex(subs);
      let total = 0;
      let byIdentifier = 0;
      for (let i = 0; i < 300; i++) {
        const a = makeAlert(i, world, rng);
        const got = index.match(a).map((m) => ({
          id: m.subscription.id,
          severity: m.severity,
          why: [...m.matchedBy].sort(),
        }));
        const want = naiveMatch(subs, a).map((m) => ({ ...m, why: [...m.why].sort() }));
        expect(got).toEqual(want);
        // The reason-free routing path picks exactly the same subscriptions.
        expect(index.matchSubscriptions(a).map((s) => s.id)).toEqual(want.map((m) => m.id));
        total += got.length;
        byIdentifier += got.filter((m) => m.why.some((w) => w.startsWith('identifier:'))).length;
      }
      // Not vacuous: plenty of matches, including some through watch terms and identifiers.
      expect(total).toBeGreaterThan(1000);
      expect(byIdentifier).toBeGreaterThan(20);
    });
  }

  it('agrees on watch-term-heavy populations', () => {
    const rng = seededRng(99);
    const world = makeWorld(rng);
    world.watchTerms = world.watchTerms.slice(0, 30);
    world.entities = world.entities.slice(0, 30);
    const subs = makeSubscriptions(500, world, rng);
    const index = buildRoutingIndex(subs);
    let watched = 0;
    for (let i = 0; i < 200; i++) {
      const a = makeAlert(i, world, rng);
      const got = index.match(a);
      expect(index.matchSubscriptions(a)).toEqual(got.map((m) => m.subscription));
      watched += got.filter((m) => m.matchedBy.some((w) => w.startsWith('watch:'))).length;
      expect(got.map((m) => ({ id: m.subscription.id, severity: m.severity, why: [...m.matchedBy].sort() }))).toEqual(
        naiveMatch(subs, a).map((m) => ({ ...m, why: [...m.why].sort() })),
      );
    }
    expect(watched).toBeGreaterThan(100);
  });
});

describe('buildRoutingIndex: identifier-heavy populations', () => {
  it('agrees with checking every subscription when many teams watch identifiers', () => {
    const rng = seededRng(7);
    const world = makeWorld(rng);
    world.identifiers = world.identifiers.slice(0, 40);
    const subs = makeSubscriptions(2000, world, rng).map((s, i) =>
      i % 2 === 0 ? s : { ...s, filter: { ...s.filter, identifiers: [world.identifiers[i % 40]!.value] } },
    );
    const index = buildRoutingIndex(subs);
    let byIdentifier = 0;
    for (let i = 0; i < 300; i++) {
      const a = makeAlert(i, world, rng);
      const got = index
        .match(a)
        .map((m) => ({ id: m.subscription.id, severity: m.severity, why: [...m.matchedBy].sort() }));
      expect(got).toEqual(naiveMatch(subs, a).map((m) => ({ ...m, why: [...m.why].sort() })));
      expect(index.matchSubscriptions(a).map((s) => s.id)).toEqual(got.map((m) => m.id));
      byIdentifier += got.filter((m) => m.why.some((w) => w.startsWith('identifier:'))).length;
    }
    expect(byIdentifier).toBeGreaterThan(200);
  });
});
