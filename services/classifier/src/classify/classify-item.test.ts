import type { Alert, Classification, ClassifyInput, FeedItem } from '@regwatch/contracts';
import { compileRules, loadRules } from '@regwatch/rules';
import { describe, expect, it } from 'vitest';
import { type ClassifyItemDeps, classifyItem, classifyItems } from './classify-item.js';

const item: FeedItem = {
  id: 'iabc',
  feedId: 'wire',
  url: 'https://news.example/a',
  title: 'Title',
  summary: 'Summary',
  published: '2026-11-28T00:00:00.000Z',
  publishedEstimated: false,
  fetchedAt: '2026-11-28T00:00:01.000Z',
  categories: [],
};

function classification(flagged: boolean): Classification {
  return {
    flagged,
    score: flagged ? 0.9 : 0.1,
    severity: flagged ? 'high' : 'info',
    topics: flagged ? ['export_controls'] : [],
    jurisdictions: flagged ? ['US'] : [],
    entities: [],
    evidence: [],
    rulesVersion: 't1',
    identifiers: flagged
      ? [
          { kind: 'eccn', value: '3A090', text: '3A090', field: 'title', start: 0, end: 5 },
          { kind: 'eccn', value: '3A090', text: '3A090', field: 'summary', start: 9, end: 14 },
        ]
      : [],
    storyId: 'st-0000000000000001',
  };
}

function deps(flagged: boolean) {
  const saved: Alert[] = [];
  const published: Alert[] = [];
  return {
    saved,
    published,
    deps: {
      classify: () => classification(flagged),
      assignStory: async () => 'st-00000000000000aa',
      saveAlerts: async (alerts: Alert[]) => {
        saved.push(...alerts);
        return alerts.map(() => true);
      },
      publish: async (alerts: Alert[]) => {
        published.push(...alerts);
      },
      now: () => new Date('2026-11-28T00:00:02.000Z'),
    },
  };
}

describe('classifyItem', () => {
  it('stores and publishes a flagged item as an alert in its clustered story', async () => {
    const t = deps(true);
    const outcome = await classifyItem(item, t.deps);
    expect(outcome).toEqual({ flagged: true, alertId: 'a-iabc', storyId: 'st-00000000000000aa' });
    expect(t.saved).toHaveLength(1);
    expect(t.published[0]).toMatchObject({
      id: 'a-iabc',
      storyId: 'st-00000000000000aa',
      fetchedAt: item.fetchedAt,
      sources: [{ feedId: 'wire', itemId: 'iabc', url: item.url }],
    });
  });

  it('publishes again when the alert was stored by an earlier attempt', async () => {
    const t = deps(true);
    t.deps.saveAlerts = async (alerts) => alerts.map(() => false);
    await classifyItem(item, t.deps);
    expect(t.published).toHaveLength(1);
  });

  it('does nothing for an item that is not flagged', async () => {
    const t = deps(false);
    expect(await classifyItem(item, t.deps)).toEqual({ flagged: false, score: 0.1 });
    expect(t.saved).toHaveLength(0);
    expect(t.published).toHaveLength(0);
  });

  it('carries identifiers into the alert as kind and value, once each', async () => {
    const t = deps(true);
    await classifyItem(item, t.deps);
    expect(t.published[0]!.identifiers).toEqual([{ kind: 'eccn', value: '3A090' }]);
  });

  it('flags a Federal Register-like item with the real rules and lists its identifiers', async () => {
    const engine = compileRules(loadRules());
    const t = deps(true);
    const real = { ...t.deps, classify: (input: ClassifyInput) => engine.classify(input) };
    const fr: FeedItem = {
      ...item,
      id: 'ifr1',
      feedId: 'fr-bis',
      url: 'https://www.federalregister.gov/documents/2025/01/16/2025-00711/export-controls-advanced-computing',
      title:
        'Export Administration Regulations: Revisions to License Requirements for Advanced Computing Items (3A090, 4A090)',
      summary:
        'The Bureau of Industry and Security (BIS) amends the Export Administration Regulations (EAR) to impose new ' +
        'license requirements on exports to China of advanced integrated circuits classified under ECCN 3A090.a and ' +
        'computers under 4A090.a, and revises 15 CFR 744.23. FR Doc. 2025-00711 · 90 FR 4544 · 15 CFR 734, 740 and 744 · ' +
        'Effective 2025-01-15 · Comments due 2025-03-17',
    };
    const outcome = await classifyItem(fr, real);
    expect(outcome.flagged).toBe(true);
    const alert = t.published[0]!;
    expect(alert.topics).toContain('export_controls');
    expect(alert.identifiers).toEqual([
      { kind: 'eccn', value: '3A090' },
      { kind: 'eccn', value: '4A090' },
      { kind: 'eccn', value: '3A090.a' },
      { kind: 'eccn', value: '4A090.a' },
      { kind: 'cfr', value: '15 CFR 744.23' },
      { kind: 'fr_doc', value: '2025-00711' },
      { kind: 'fr_citation', value: '90 FR 4544' },
      { kind: 'cfr', value: '15 CFR 734' },
      { kind: 'cfr', value: '15 CFR 740' },
      { kind: 'cfr', value: '15 CFR 744' },
      { kind: 'effective_date', value: '2025-01-15' },
      { kind: 'comment_deadline', value: '2025-03-17' },
    ]);
  });
});

describe('classifyItems (the new items of one poll)', () => {
  /** Items whose title says whether they are flagged and which near-duplicate story (SimHash) they are. */
  function batchItem(id: string, title: string): FeedItem {
    return { ...item, id, title, url: `https://news.example/${id}` };
  }
  const items = [
    batchItem('i1', 'flag st-0000000000000001'),
    batchItem('i2', 'pass'),
    batchItem('i3', 'flag st-0000000000000002'),
    batchItem('i4', 'pass'),
    batchItem('i5', 'flag st-0000000000000001'),
  ];

  function batchDeps() {
    const assigned: string[] = [];
    const saved: string[] = [];
    /** How many alerts each call stored. */
    const saves: number[] = [];
    const publishes: Alert[][] = [];
    const stories = new Map<string, string>();
    const deps: ClassifyItemDeps = {
      classify: (input) => {
        const [verdict, storyId] = input.title.split(' ');
        return { ...classification(verdict === 'flag'), score: verdict === 'flag' ? 0.9 : 0.2, storyId: storyId ?? '' };
      },
      // Like the story index: the first item of a story names it, a later copy joins it.
      assignStory: async (id) => {
        assigned.push(id);
        if (!stories.has(id)) stories.set(id, `st-joined-${stories.size + 1}`);
        return stories.get(id)!;
      },
      saveAlerts: async (alerts) => {
        saves.push(alerts.length);
        saved.push(...alerts.map((a) => a.id));
        return alerts.map(() => true);
      },
      publish: async (alerts) => {
        publishes.push([...alerts]);
      },
      now: () => new Date('2026-11-28T00:00:02.000Z'),
    };
    return { deps, assigned, saved, saves, publishes };
  }

  it('assigns stories in item order, stores every alert and publishes them all in one call', async () => {
    const t = batchDeps();
    const outcomes = await classifyItems(items, t.deps);
    expect(t.assigned).toEqual(['st-0000000000000001', 'st-0000000000000002', 'st-0000000000000001']);
    expect(t.saved.sort()).toEqual(['a-i1', 'a-i3', 'a-i5']);
    // The batch's alerts in one store call (one Redis command), not one per alert.
    expect(t.saves).toEqual([3]);
    expect(t.publishes).toHaveLength(1);
    expect(t.publishes[0]!.map((a) => [a.id, a.itemId, a.storyId])).toEqual([
      ['a-i1', 'i1', 'st-joined-1'],
      ['a-i3', 'i3', 'st-joined-2'],
      ['a-i5', 'i5', 'st-joined-1'],
    ]);
    // One outcome per item, in item order; unflagged ones keep their score.
    expect(outcomes).toEqual([
      { flagged: true, alertId: 'a-i1', storyId: 'st-joined-1' },
      { flagged: false, score: 0.2 },
      { flagged: true, alertId: 'a-i3', storyId: 'st-joined-2' },
      { flagged: false, score: 0.2 },
      { flagged: true, alertId: 'a-i5', storyId: 'st-joined-1' },
    ]);
  });

  it('stores every alert before publishing any', async () => {
    const t = batchDeps();
    const savedAtPublish: number[] = [];
    t.deps.publish = async () => {
      savedAtPublish.push(t.saved.length);
    };
    await classifyItems(items, t.deps);
    expect(savedAtPublish).toEqual([3]);
  });

  it('lets unflagged items pass through without stories, stores or a publish', async () => {
    const t = batchDeps();
    const quiet = [batchItem('q1', 'pass'), batchItem('q2', 'pass')];
    expect(await classifyItems(quiet, t.deps)).toEqual([
      { flagged: false, score: 0.2 },
      { flagged: false, score: 0.2 },
    ]);
    expect(t.assigned).toEqual([]);
    expect(t.saved).toEqual([]);
    expect(t.saves).toEqual([]);
    expect(t.publishes).toEqual([]);
  });

  it('publishes a retried batch again (its alerts already stored), so routing can repair a crash', async () => {
    const t = batchDeps();
    t.deps.saveAlerts = async (alerts) => alerts.map(() => false);
    await classifyItems(items, t.deps);
    expect(t.publishes.map((p) => p.length)).toEqual([3]);
  });
});
