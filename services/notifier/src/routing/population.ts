import {
  type Alert,
  type AlertIdentifier,
  SEVERITIES,
  type Severity,
  type Subscription,
  TOPICS,
  type Topic,
} from '@regwatch/contracts';

/** A seeded PRNG (mulberry32), so a population and its measurements can be reproduced. */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Jurisdictions weighted roughly as export-control news mentions them: US and CN dominate.
const JURISDICTIONS: ReadonlyArray<readonly [string, number]> = [
  ['US', 30],
  ['CN', 25],
  ['EU', 10],
  ['NL', 5],
  ['JP', 5],
  ['UK', 5],
  ['DE', 4],
  ['KR', 4],
  ['TW', 4],
  ['RU', 6],
  ['IR', 3],
  ['IN', 3],
  ['FR', 2],
  ['CA', 2],
  ['AU', 2],
  ['SG', 2],
  ['AE', 2],
  ['TR', 2],
  ['MY', 1],
  ['VN', 1],
  ['MX', 1],
  ['BR', 1],
  ['IL', 1],
  ['KP', 1],
  ['BY', 1],
  ['other', 3],
];

const SYLLABLES = ['ax', 'bel', 'cor', 'dyn', 'el', 'fin', 'gra', 'hex', 'ion', 'jet', 'kor', 'lum', 'mar', 'nov'];
const FILLER =
  'the said on in a of for to and by with after new rules companies agency department officials statement week report shipments license controls trade'.split(
    ' ',
  );

/** Random picking helpers over one rng. */
function picker(rng: () => number) {
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const one = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const some = <T>(xs: readonly T[], k: number): T[] => {
    const out = new Set<T>();
    while (out.size < Math.min(k, xs.length)) out.add(one(xs));
    return [...out];
  };
  const total = JURISDICTIONS.reduce((s, [, w]) => s + w, 0);
  const jurisdiction = (): string => {
    let r = rng() * total;
    for (const [code, w] of JURISDICTIONS) {
      r -= w;
      if (r < 0) return code;
    }
    return 'US';
  };
  // Entity and term popularity is skewed: a few names (NVIDIA, Huawei) appear everywhere, most rarely.
  const skewed = <T>(xs: readonly T[]): T => xs[Math.floor(rng() ** 2.5 * xs.length)]!;
  return { int, one, some, jurisdiction, skewed };
}

/** A synthetic world of entity names, watch terms and feeds that populations and alerts draw from. */
export interface RoutingWorld {
  entities: string[];
  watchTerms: string[];
  feeds: string[];
  /** Leaf-level trade-control identifiers alerts name: `3A090.a`, `8542.31.00`, `15 CFR 744.21`… */
  identifiers: AlertIdentifier[];
}

/** What a team writes to watch an identifier: itself or a parent (`3A090`, `8542`, `15 CFR 744`), as typed. */
function watchedForm(id: AlertIdentifier, rng: () => number): string {
  const r = rng();
  switch (id.kind) {
    case 'eccn': {
      const base = id.value.split('.')[0]!;
      if (r < 0.5) return base;
      if (r < 0.6 && /^[0-9][A-E][56]/.test(base)) return `${base[0]}x${base.slice(2)}`;
      return id.value;
    }
    case 'hs': {
      const digits = id.value.replace(/\./g, '');
      const len = 4 + 2 * Math.floor(r * ((digits.length - 4) / 2 + 1));
      const cut = digits.slice(0, len);
      return rng() < 0.5 ? `HS ${cut}` : cut.length > 4 ? `${cut.slice(0, 4)}.${cut.slice(4)}` : cut;
    }
    case 'cfr':
      return r < 0.5 ? id.value.replace(/\.\d+$/, '') : id.value;
    default:
      return id.value;
  }
}

/** Builds name pools: ~2,000 entities, ~5,000 watch terms (some two words), 40 feeds. */
export function makeWorld(rng: () => number): RoutingWorld {
  const p = picker(rng);
  const word = () => {
    let w = '';
    for (let k = p.int(2, 3); k > 0; k--) w += p.one(SYLLABLES);
    return w[0]!.toUpperCase() + w.slice(1);
  };
  const uniq = (k: number, make: () => string) => {
    const s = new Set<string>();
    while (s.size < k) s.add(make());
    return [...s];
  };
  const eccnSubs = ['', '', '.a', '.b', '.c', '.a.1', '.b.2'];
  const identifiers: AlertIdentifier[] = [
    ...uniq(150, () => {
      const third = p.one(['0', '0', '0', '1', '2', '5', '6', '9', '9']);
      return `${p.int(0, 9)}${p.one(['A', 'B', 'C', 'D', 'E'])}${third}${p.int(0, 9)}${p.int(0, 9)}${p.one(eccnSubs)}`;
    }).map((value) => ({ kind: 'eccn' as const, value })),
    ...uniq(150, () => {
      const chapter = p.int(1, 97);
      // Chapters 19 and 20 would give year-like headings, which a subscription may not list.
      const d = `${String(chapter === 19 || chapter === 20 ? 84 : chapter).padStart(2, '0')}${String(p.int(1, 99)).padStart(2, '0')}${String(p.int(10, 99))}`;
      const tail = p.one(['', '00', '0150', '90', '0080']);
      return `${d.slice(0, 4)}.${d.slice(4)}${tail ? `.${tail}` : ''}`;
    }).map((value) => ({ kind: 'hs' as const, value })),
    ...uniq(40, () => `15 CFR ${p.int(730, 774)}${rng() < 0.7 ? `.${p.int(1, 30)}` : ''}`).map((value) => ({
      kind: 'cfr' as const,
      value,
    })),
    ...uniq(20, () => `2025-${String(p.int(0, 99999)).padStart(5, '0')}`).map((value) => ({
      kind: 'fr_doc' as const,
      value,
    })),
  ];
  for (let k = identifiers.length - 1; k > 0; k--) {
    const j = Math.floor(rng() * (k + 1));
    [identifiers[k], identifiers[j]] = [identifiers[j]!, identifiers[k]!];
  }
  return {
    identifiers,
    entities: uniq(2000, () => `${word()}${p.one(['', ' Corp', ' Technologies', ' Ltd'])}`.trim()),
    watchTerms: uniq(5000, () => (rng() < 0.3 ? `${word()} ${word()}` : word())),
    feeds: Array.from({ length: 40 }, (_, i) => `feed-${i}`),
  };
}

/**
 * Random subscriptions shaped like teams use them: most pick topics, many add jurisdictions,
 * some follow entities or list their own watch terms, a few pin feeds or set a severity floor.
 */
export function makeSubscriptions(count: number, world: RoutingWorld, rng: () => number): Subscription[] {
  const p = picker(rng);
  return Array.from({ length: count }, (_, i): Subscription => {
    const filter: Subscription['filter'] = {};
    if (rng() < 0.7) filter.topics = p.some(TOPICS, p.int(1, 3));
    if (rng() < 0.5) filter.jurisdictions = [...new Set(Array.from({ length: p.int(1, 3) }, p.jurisdiction))];
    if (rng() < 0.35)
      filter.entities = [...new Set(Array.from({ length: p.int(1, 6) }, () => p.skewed(world.entities)))];
    if (rng() < 0.5)
      filter.watchTerms = [...new Set(Array.from({ length: p.int(1, 12) }, () => p.skewed(world.watchTerms)))];
    if (rng() < 0.4) filter.minSeverity = p.one(SEVERITIES);
    if (rng() < 0.08) filter.feeds = p.some(world.feeds, p.int(1, 4));
    // Compliance teams watching their own classifications: a few identifiers each, often a parent.
    if (rng() < 0.12)
      filter.identifiers = [
        ...new Set(Array.from({ length: p.int(1, 4) }, () => watchedForm(p.skewed(world.identifiers), rng))),
      ];
    return {
      id: `sub-${i}`,
      team: `team-${i % 800}`,
      filter,
      channels: [{ type: 'email', to: [`team-${i % 800}@example.com`] }],
      mode: 'immediate',
      paused: rng() < 0.03,
    };
  });
}

/** A random alert: title and a 300–1,500 character summary mentioning some entities and, often, watch terms. */
export function makeAlert(i: number, world: RoutingWorld, rng: () => number): Alert {
  const p = picker(rng);
  const entities = [...new Set(Array.from({ length: p.int(0, 3) }, () => p.skewed(world.entities)))];
  const mentions = [...entities, ...Array.from({ length: p.int(0, 3) }, () => p.skewed(world.watchTerms))];
  const words: string[] = [];
  const target = p.int(50, 250);
  while (words.length < target) {
    words.push(rng() < 0.05 && mentions.length > 0 ? p.one(mentions) : p.one(FILLER));
  }
  const feedId = p.one(world.feeds);
  const title = `${p.one(mentions.length > 0 ? mentions : FILLER)} ${words.slice(0, 10).join(' ')}`;
  const severity: Severity = p.one(SEVERITIES);
  const topics: Topic[] = p.some(TOPICS, p.int(1, 2));
  const published = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
  return {
    id: `alert-${i}`,
    storyId: `story-${i}`,
    itemId: `item-${i}`,
    feedId,
    title,
    url: `https://news.example.com/${i}`,
    summary: words.join(' '),
    published,
    score: 0.8,
    severity,
    topics,
    jurisdictions: [...new Set(Array.from({ length: p.int(1, 3) }, p.jurisdiction))],
    entities,
    evidence: [],
    rulesVersion: 'bench',
    // Most stories name no identifier; regulatory ones name a few.
    identifiers:
      rng() < 0.3 ? [...new Set(Array.from({ length: p.int(1, 3) }, () => p.skewed(world.identifiers)))] : [],
    sources: [{ feedId, itemId: `item-${i}`, url: `https://news.example.com/${i}`, title, published }],
    createdAt: published,
  };
}
